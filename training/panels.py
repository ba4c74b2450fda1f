"""The HTML training adds to other apps' pages (registered in ``wagtail_hooks``): the new hire's panel on
the home page, the read-and-confirm box under an article, the licence note on a procedure's start box
and the link to a practice run's score on its summary."""

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import Page

from . import progress, reading
from .choices import ItemKind
from .models import PathAssignment, PracticeSession, ScenarioCard


def home_panel(request):
    """The trainee's path, next item, due dates and scores; nothing for users without a path."""
    user = request.user
    if not user.is_authenticated:
        return ""
    assignments = list(PathAssignment.objects.filter(user=user).select_related("path"))
    if not assignments:
        return ""
    today = timezone.localdate()
    rows = []
    for assignment in assignments:
        items = sorted(assignment.items.all(), key=lambda row: (row.stage_index, row.position))
        unfinished = [row for row in items if not row.is_finished]
        rows.append(
            {
                "assignment": assignment,
                "status": progress.path_status(assignment, items, today),
                "next": unfinished[0] if unfinished else None,
                "overdue": [row for row in unfinished if row.due_date is not None and row.due_date < today],
            }
        )
    return render_to_string(
        "training/includes/home_panel.html",
        {"rows": rows, "to_confirm": len(reading.to_confirm(user))},
        request=request,
    )


def confirm_panel(request, page):
    """The read-and-confirm box, for trainees whose path has this article (and whoever confirmed it)."""
    user = request.user
    if not user.is_authenticated:
        return ""
    state = reading.confirm_state(user, page)
    if state is None:
        return ""
    return render_to_string("training/includes/confirm_panel.html", {"page": page, **state}, request=request)


def licence_note(request, procedure):
    """Why a new hire's run of this procedure will be practice, with the scenario cards to practise."""
    user = request.user
    if not progress.is_new_hire(user):
        return ""
    licensed, passes, needed = progress.licence_status(user, procedure.pk)
    cards = ScenarioCard.objects.filter(procedure=procedure).order_by("title")
    return render_to_string(
        "training/includes/licence_note.html",
        {"licensed": licensed, "passes": passes, "needed": needed, "cards": cards, "procedure": procedure},
        request=request,
    )


def refuse_live_without_licence(request, procedure, practice):
    if practice or not progress.is_new_hire(request.user):
        return None
    licensed, passes, needed = progress.licence_status(request.user, procedure.pk)
    if licensed:
        return None
    return _(
        "你还没有取得这个流程的上岗资格：需要通过 %(needed)s 次练习（已通过 %(passes)s 次）。"
        "在此之前请以练习模式运行。"
    ) % {"needed": needed, "passes": passes}


def practice_summary_panel(request, run):
    """On a finished practice run's summary: its score, with a link to the feedback."""
    if not run.practice:
        return ""
    session = PracticeSession.objects.filter(run=run).first()
    if session is None or session.scored_at is None:
        return ""
    return render_to_string("training/includes/practice_score.html", {"session": session}, request=request)


def item_links(rows):
    """Where a trainee goes to do each item: ``{row.pk: url}``, with one query for the pages."""
    page_ids = {r.target_id for r in rows if r.kind in (ItemKind.READ, ItemKind.PRACTICE) and r.target_id}
    pages = {p.pk: p for p in Page.objects.filter(pk__in=page_ids)} if page_ids else {}
    links = {}
    for row in rows:
        if row.kind in (ItemKind.READ, ItemKind.PRACTICE):
            page = pages.get(row.target_id)
            links[row.pk] = (page.url or "") if page else ""
        elif row.kind in (ItemKind.QUIZ, ItemKind.PHRASINGS) and row.target_id:
            links[row.pk] = reverse("training:quiz", args=[row.target_id])
        else:
            links[row.pk] = reverse("training:home") + f"#item-{row.pk}"
    return links
