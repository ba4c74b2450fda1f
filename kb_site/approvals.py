"""Approval in one click from the review screen, with a message saying what it did.

Wagtail lists workflow actions after its own in the editor's footer, so a reviewer's 批准 sits in the
"…" menu behind 保存草稿; approving from the editor reports only that the page "has been updated",
and approving from the dashboard's 等待你的审查 panel reports nothing. ``kb_site.wagtail_hooks``
registers these, for pages and snippets (phrasings) alike:

- ``promote_approve`` makes approval the editor footer's primary button;
- ``remember_task_under_review`` / ``confirm_approval`` replace the editor's "updated" message with
  one saying the change was approved (and published, or passed on to the next task) or sent back;
- ``ReviewPanel`` is Wagtail's dashboard panel with its actions sent through ``workflow_action``,
  which runs Wagtail's own view and then says the same.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.utils import quote
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, resolve, reverse
from django.utils.translation import gettext as _
from wagtail.admin.views.home import WorkflowObjectsToModeratePanel
from wagtail.models import Page, TaskState


def approval_publishes(obj):
    """Whether approving the current task of ``obj`` publishes it (the last task of its workflow)."""
    state = obj.current_workflow_state
    return bool(
        state
        and state.is_at_final_task
        and not getattr(settings, "WAGTAIL_WORKFLOW_REQUIRE_REAPPROVAL_ON_EDIT", False)
    )


def outcome_message(request, task_state_pk, title):
    """What this request did to the task (was in progress before it): approved, published, sent back;
    None if it did neither (another action, another user, an action Wagtail refused)."""
    task_state = TaskState.objects.filter(pk=task_state_pk).select_related("workflow_state").first()
    if task_state is None or task_state.finished_by_id != request.user.pk:
        return None
    values = {"title": title}
    if task_state.status == TaskState.STATUS_REJECTED:
        return _("已退回“%(title)s”，要求修改。") % values
    if task_state.status != TaskState.STATUS_APPROVED:
        return None
    workflow_state = task_state.workflow_state
    if workflow_state.status != workflow_state.STATUS_APPROVED:
        return _("已批准“%(title)s”，转入下一步审核。") % values
    obj = workflow_state.content_object
    if getattr(obj, "live", True) and not getattr(obj, "has_unpublished_changes", False):
        return _("已批准并发布“%(title)s”。") % values
    if getattr(obj, "go_live_at", None):
        return _("已批准“%(title)s”，将按计划发布。") % values
    return _("已批准“%(title)s”。") % values


# The editor


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
    if task_state is not None and (text := outcome_message(request, task_state.pk, str(obj))):
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


# The dashboard


def workflow_action(request, pk, action_name, task_state_id):
    """The dashboard's workflow actions: Wagtail's own view for the page or snippet (its checks, its
    response), then a message if it approved or sent back the task."""
    task_state = get_object_or_404(TaskState.objects.select_related("revision"), pk=task_state_id)
    obj = task_state.revision.content_object
    if isinstance(obj, Page):
        url_name = "wagtailadmin_pages:workflow_action"
    elif obj is not None and hasattr(obj, "snippet_viewset"):
        url_name = obj.snippet_viewset.get_url_name("workflow_action")
    else:
        raise Http404
    was_in_progress = task_state.status == TaskState.STATUS_IN_PROGRESS
    match = resolve(reverse(url_name, args=(quote(obj.pk), action_name, task_state.pk)))
    response = match.func(request, *match.args, **match.kwargs)
    title = task_state.revision.object_str
    if (
        request.method == "POST"
        and was_in_progress
        and (text := outcome_message(request, task_state.pk, title))
    ):
        messages.success(request, text)
    return response


def admin_urls():
    """``register_admin_urls``: ``workflow_action`` (behind the admin's login, as every admin URL)."""
    return [
        path(
            "approvals/<str:pk>/<slug:action_name>/<int:task_state_id>/",
            workflow_action,
            name="callbook_workflow_action",
        ),
    ]


class ReviewPanel(WorkflowObjectsToModeratePanel):
    """等待你的审查, as Wagtail shows it, its actions going through ``workflow_action``."""

    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        for state in context["states"]:
            state["workflow_action_url_name"] = "callbook_workflow_action"
        return context


def replace_review_panel(request, panels):
    """``construct_homepage_panels``: ``ReviewPanel`` in place of Wagtail's."""
    panels[:] = [
        ReviewPanel() if isinstance(panel, WorkflowObjectsToModeratePanel) else panel for panel in panels
    ]
