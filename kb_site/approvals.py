"""Approval in one click from the review screen, with a message saying what it did.

Wagtail lists workflow actions after its own in the editor's footer, so a reviewer's 批准 sits in the
"…" menu behind 保存草稿, and approving from the editor reports only that the page "has been
updated". ``kb_site.wagtail_hooks`` registers these for pages and snippets (phrasings):
``promote_approve`` makes approval the footer's primary button, and ``remember_task_under_review`` /
``confirm_approval`` replace the "updated" message with one saying the change was approved (and
published, or passed on to the workflow's next task) or sent back for changes.
"""

from django.conf import settings
from django.contrib import messages
from django.utils.translation import gettext as _
from wagtail.models import TaskState


def approval_publishes(obj):
    """Whether approving the current task of ``obj`` publishes it (the last task of its workflow)."""
    state = obj.current_workflow_state
    return bool(
        state
        and state.is_at_final_task
        and not getattr(settings, "WAGTAIL_WORKFLOW_REQUIRE_REAPPROVAL_ON_EDIT", False)
    )


def promote_approve(menu_items, request, context):
    """``construct_page_action_menu`` / ``construct_snippet_action_menu``: the reviewer's one-click
    approval (the one without a comment dialog) becomes the footer's primary button."""
    for index, item in enumerate(menu_items):
        if getattr(item, "name", None) == "approve" and not getattr(item, "launch_modal", True):
            obj = context.get("page") or context.get("instance")
            item.label = _("批准并发布") if obj is not None and approval_publishes(obj) else _("批准")
            menu_items.insert(0, menu_items.pop(index))
            return


def remember_task_under_review(request, obj):
    """``before_edit_page`` / ``before_edit_snippet``: the task a POST may act on, to tell afterwards
    whether this request approved it."""
    if request.method == "POST":
        request.callbook_task_under_review = getattr(obj, "current_workflow_task_state", None)


def confirm_approval(request, obj):
    """``after_edit_page`` / ``after_edit_snippet``: after this request approved or rejected the task,
    say so instead of "updated"."""
    task_state = getattr(request, "callbook_task_under_review", None)
    if task_state is None:
        return
    task_state = TaskState.objects.filter(pk=task_state.pk).select_related("workflow_state").first()
    if task_state is None or task_state.finished_by_id != request.user.pk:
        return
    title = str(obj)
    if task_state.status == TaskState.STATUS_REJECTED:
        replace_last_success_message(request, _("已退回“%(title)s”，要求修改。") % {"title": title})
        return
    if task_state.status != TaskState.STATUS_APPROVED:
        return
    workflow_state = task_state.workflow_state
    if workflow_state.status == workflow_state.STATUS_APPROVED:
        obj.refresh_from_db()
        go_live_at = getattr(obj, "go_live_at", None)
        if getattr(obj, "live", True) and not getattr(obj, "has_unpublished_changes", False):
            text = _("已批准并发布“%(title)s”。") % {"title": title}
        elif go_live_at:
            text = _("已批准“%(title)s”，将按计划发布。") % {"title": title}
        else:
            text = _("已批准“%(title)s”。") % {"title": title}
    else:
        text = _("已批准“%(title)s”，转入下一步审核。") % {"title": title}
    replace_last_success_message(request, text)


def replace_last_success_message(request, text):
    """Put ``text`` in place of the last success message queued in this request (Wagtail's "updated"),
    keeping every other message, through the messages API only."""
    storage = messages.get_messages(request)
    pending = list(storage)  # marks them read: only what is added back below is shown
    for index in range(len(pending) - 1, -1, -1):
        if pending[index].level == messages.SUCCESS:
            del pending[index]
            break
    for message in pending:
        storage.add(message.level, message.message, message.extra_tags)
    messages.success(request, text)
