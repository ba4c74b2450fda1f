"""What a feedback is about, read from the request and checked against what the user can see.

``resolve(user, data)`` takes the ids a 反馈 link carries (``page``, ``block``, ``phrasing``, ``step``,
``run``) and returns a ``Target``: the page (live and public only, else ``Http404``: a page the user
cannot see is not there), the part of it, the revision the remark is pinned to and who owns it. A part
that is not on that page raises ``TargetError`` with a message for the user.
"""

import json
import uuid
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.http import Http404
from django.utils.translation import gettext as _
from wagtail.models import Page, Revision

from kb_site.content import roles
from kb_site.content.models import ArticlePage, Phrasing, SectionPage
from kb_site.content.profiles import person_name
from procedures.engine import SCOPE_SEP
from procedures.models import ProcedurePage, ProcedureRun
from procedures.models.pages import procedure_for_revision, referenced_phrasing_ids


class TargetError(Exception):
    """The page exists but the part named is not on it: shown to the user, nothing saved."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass
class Target:
    page: Page  # the specific page
    block_id: str = ""
    phrasing: Phrasing | None = None
    step_key: str = ""
    step_title: str = ""
    run: ProcedureRun | None = None
    revision: Revision | None = None
    # What the form posted, when the remark lands elsewhere (a step of a sub-procedure inside a run is
    # about the called procedure: its page, its own key and the revision the run pinned).
    posted: dict | None = None

    @property
    def owner(self):
        return getattr(self.page, "maintainer", None)

    @property
    def owner_group(self):
        return None if self.owner is not None else trainers_group()

    @property
    def owner_name(self):
        if self.owner is not None:
            return person_name(self.owner)
        group = self.owner_group
        return group.name if group else _("培训师")

    @property
    def description(self):
        """A short line saying what the feedback is about, for the form's heading."""
        parts = [self.page.title]
        if self.step_title:
            parts.append(_("步骤“%(title)s”") % {"title": self.step_title})
        if self.phrasing is not None:
            parts.append(_("话术“%(title)s”") % {"title": self.phrasing.title})
        elif self.block_id:
            parts.append(_("文章中的一段"))
        return " · ".join(parts)

    def as_query(self):
        """The ids of this target, as the form carries them."""
        if self.posted is not None:
            return dict(self.posted)
        data = {"page": self.page.pk}
        if self.block_id:
            data["block"] = self.block_id
        if self.phrasing is not None:
            data["phrasing"] = self.phrasing.pk
        if self.step_key:
            data["step"] = self.step_key
        if self.run is not None:
            data["run"] = str(self.run.pk)
        return data


def trainers_group():
    return Group.objects.filter(name=roles.TRAINER).first()


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 10**18 else None


def resolve(user, data):
    page_id = _int(data.get("page"))
    if page_id is None:
        raise Http404(_("没有找到这个页面。"))
    page = Page.objects.live().public().filter(pk=page_id).first()
    if page is None:
        raise Http404(_("没有找到这个页面。"))
    page = page.specific
    block_id, step_key, phrasing_raw, run_raw, index_raw = (
        str(data.get(name) or "").strip() for name in ("block", "step", "phrasing", "run", "phrasing_index")
    )
    target = Target(page=page, block_id=block_id, step_key=step_key)

    if phrasing_raw:
        phrasing_id = _int(phrasing_raw)
        target.phrasing = Phrasing.objects.live().filter(pk=phrasing_id).first() if phrasing_id else None
        if target.phrasing is None:
            raise TargetError(_("这条话术不在这个页面上。"))

    if isinstance(page, ArticlePage):
        if step_key or run_raw:
            raise TargetError(_("规范文章没有流程步骤。"))
        body = page.body
        if block_id and block_id not in {block.id for block in body}:
            raise TargetError(_("文章中没有这一段，可能已经修改，请刷新页面后再试。"))
        if target.phrasing is not None:
            used = {
                block.value["phrasing"].pk
                for block in body
                if block.block_type == "phrasing" and block.value.get("phrasing") is not None
            }
            if target.phrasing.pk not in used:
                raise TargetError(_("这条话术不在这个页面上。"))
        target.revision = page.live_revision
    elif isinstance(page, ProcedurePage):
        if block_id:
            raise TargetError(_("流程没有文章段落。"))
        if run_raw:
            _pin_to_run(user, page, target, run_raw)
            if index_raw:
                if phrasing_raw:
                    raise TargetError(_("这条话术不在这个页面上。"))
                target.phrasing = _step_phrasing(target.revision, step_key, index_raw)
        else:
            target.revision = page.live_revision
            if step_key:
                step = procedure_for_revision(page.live_revision_id).by_key.get(step_key)
                if step is None:
                    raise TargetError(_("流程中没有这一步，可能已经修改，请刷新页面后再试。"))
                target.step_title = step.get("title", "")
        if target.phrasing is not None and target.phrasing.pk not in referenced_phrasing_ids(target.revision):
            raise TargetError(_("这条话术不在这个页面上。"))
    elif isinstance(page, SectionPage):
        # A phrasing's own place: its card on its section's page.
        if (
            target.phrasing is None
            or target.phrasing.section_id != page.pk
            or block_id
            or step_key
            or run_raw
        ):
            raise TargetError(_("这个页面上只能对话术提交反馈。"))
        target.revision = target.phrasing.live_revision
    else:
        raise TargetError(_("这个页面不能提交反馈。"))
    return target


def _raw_steps(revision):
    steps = revision.content.get("steps") or []
    return json.loads(steps) if isinstance(steps, str) else steps


def _step_phrasing(revision, step_key, index_raw):
    """The library phrasing that is the n-th phrasing of a step in ``revision`` (read from the raw
    revision, as the run shows it); None for a phrasing written in the step itself."""
    if not index_raw.isdigit() or len(index_raw) > 3:
        raise TargetError(_("这一步没有这条话术。"))
    index = int(index_raw)
    for block in _raw_steps(revision):
        value = block.get("value") or {}
        if value.get("key") != step_key:
            continue
        items = value.get("phrasings") or []
        if index >= len(items):
            break
        item = items[index]
        item = item.get("value", item) if isinstance(item, dict) else {}
        phrasing_id = item.get("phrasing") if isinstance(item, dict) else None
        return Phrasing.objects.filter(pk=phrasing_id).first() if phrasing_id else None
    raise TargetError(_("这一步没有这条话术。"))


def _pin_to_run(user, page, target, run_raw):
    """From inside a run: the run must be the user's and of this procedure; the step and revision are the run's."""
    try:
        run_id = uuid.UUID(run_raw)
    except ValueError:
        raise Http404(_("没有找到这次流程运行。")) from None
    run = ProcedureRun.objects.for_user(user).filter(pk=run_id).select_related("revision").first()
    if run is None:
        raise Http404(_("没有找到这次流程运行。"))
    if run.procedure_id != page.pk:
        raise TargetError(_("这次运行不属于这个流程。"))
    if not target.step_key:
        raise TargetError(_("请指明是运行中的哪一步。"))
    procedure = run.get_procedure()
    step = procedure.by_key.get(target.step_key)
    if step is None:
        raise TargetError(_("这次运行的流程中没有这一步。"))
    target.run = run
    target.step_title = step.get("title", "")
    target.revision = run.revision
    sub = procedure.subprocedure_of(target.step_key)
    if sub is not None:
        # A step of a called procedure: the remark is about that procedure (its owner, its revision as
        # the run pinned it), still pinned to this run.
        called = Page.objects.filter(pk=sub.page).specific().first()
        if called is not None:
            target.posted = target.as_query()
            target.page = called
            target.step_key = target.step_key.rsplit(SCOPE_SEP, 1)[-1]
            target.revision = Revision.objects.filter(pk=sub.revision).first() or run.revision
