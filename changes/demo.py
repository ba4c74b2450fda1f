"""The changes demo: 少货处理 republished as a 重大变更 that some demo agents still have to acknowledge.

Called by ``load_demo`` after the procedures, training and follow-ups (``register_demo_loader``, order
60), so the follow-up demo's live runs and the training paths are there to make the audience: agents
who ran 少货处理 in the last 30 days, new hires whose path practises it, and ``agent2``, who opened it
today. The change adds a photo request to the 外包装 question; ``agent`` has acknowledged it, the others
have not (the 变更确认 report shows both). Loaded once: a second load finds the notice and adds nothing.
"""

import json

from django.contrib.auth import get_user_model

from procedures.models import ProcedurePage

from . import notices
from .models import ChangeNotice

SLUG = "missing-item-flow"
STEP = "ask-package"
SUMMARY = "外包装问题增加一句：请客户拍照留证，照片作为补发或理赔依据"
ADDED = "（请客户拍照留证）"


def load(update=False, report=None, **options):
    page = ProcedurePage.objects.filter(slug=SLUG).first()
    if page is None or not page.live:
        return
    if ChangeNotice.objects.filter(page_id=page.pk).exists():
        if report is not None:
            report.add("change notices", False)
        return
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=["trainer", "agent", "agent2"])}
    if "agent2" in users:
        notices.record_view(users["agent2"], page)

    page = page.get_latest_revision_as_object()
    steps = json.loads(json.dumps(page.steps.get_prep_value()))
    for block in steps:
        value = block.get("value") or {}
        if value.get("key") == STEP and ADDED not in value.get("title", ""):
            value["title"] = value["title"] + ADDED
    page.steps = steps
    page.change_class = "major"
    page.change_summary = SUMMARY
    trainer = users.get("trainer")
    revision = page.save_revision(user=trainer, log_action=True)
    revision.publish(user=trainer, skip_permission_checks=True)
    notice = ChangeNotice.objects.filter(revision=revision).first()
    if notice is not None and "agent" in users and notice.recipients.filter(user=users["agent"]).exists():
        notices.acknowledge(users["agent"], notice, revision.pk)
    if report is not None:
        report.add("change notices", notice is not None)
