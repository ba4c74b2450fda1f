"""What may not be deleted in the training admin, and why: a quiz with attempts (they keep its revision
and answers, ``on_delete=PROTECT``) or one a learning path still uses (its item could never be finished)."""

from django.utils.translation import gettext as _

from .choices import ItemKind
from .models import LearningPath, Quiz, QuizAttempt

QUIZ_KINDS = (ItemKind.QUIZ, ItemKind.PHRASINGS)


def paths_using_quizzes(quiz_ids):
    quiz_ids = set(quiz_ids)
    return [
        path
        for path in LearningPath.objects.all()
        if any(item.kind in QUIZ_KINDS and item.target_id in quiz_ids for item in path.items())
    ]


def why_not_delete(objects):
    """A message saying why ``objects`` (snippets about to be deleted) must stay, or None."""
    quizzes = [obj for obj in objects if isinstance(obj, Quiz)]
    if not quizzes:
        return None
    ids = [quiz.pk for quiz in quizzes]
    if QuizAttempt.objects.filter(quiz_id__in=ids).exists():
        return _(
            "测验已有作答记录（记录保存着作答时的题目和版本），不能删除；如不再使用，请从培训路径中移除。"
        )
    paths = paths_using_quizzes(ids)
    if paths:
        return _("测验正在培训路径中使用（%(paths)s），不能删除；请先从路径中移除。") % {
            "paths": "、".join(path.title for path in paths)
        }
    return None
