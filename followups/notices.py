"""Notices: in the app (the bell), by email when the user has an address, and to a WeCom / DingTalk group
robot when a webhook is configured (a plain HTTP POST of a text message). Each notice is sent once: a
second send of the same kind and level to the same user for the same follow-up does nothing."""

import json
import logging
import urllib.request

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import FollowUpSettings, Notice

logger = logging.getLogger(__name__)

__all__ = ["message_for", "post_webhook", "send"]


def message_for(notice):
    follow_up = notice.follow_up
    due = timezone.localtime(follow_up.due_at)
    return f"【{notice.get_kind_display()}】{follow_up.get_kind_display()}：{follow_up.title}（到期 {due:%m-%d %H:%M}）"


def send(user, follow_up, kind, *, level=0, now=None):
    """Create the notice once and send it out; returns it, or None when it was there already."""
    try:
        with transaction.atomic():
            notice = Notice.objects.create(
                user=user, follow_up=follow_up, kind=kind, level=level, created_at=now or timezone.now()
            )
    except IntegrityError:
        return None
    text = message_for(notice)
    if user.email:
        try:
            send_mail(text, text, None, [user.email], fail_silently=False)
        except Exception:  # a mail server down must not stop the sweep
            logger.exception("notice email to %s failed", user.email)
    url = FollowUpSettings.load().webhook_url
    if url:
        post_webhook(url, f"{text} → {user.get_full_name() or user.get_username()}")
    return notice


def post_webhook(url, text, timeout=5):
    """Post a text message to a WeCom or DingTalk group robot (both take this JSON)."""
    body = json.dumps({"msgtype": "text", "text": {"content": text}}, ensure_ascii=False).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (an admin-set URL)
            return response.status
    except Exception:
        logger.exception("webhook post to %s failed", url)
        return None
