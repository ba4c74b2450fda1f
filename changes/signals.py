"""Receivers: a published 重大变更 of an article or procedure becomes a change notice."""

from django.dispatch import receiver
from wagtail.signals import page_published

from kb_site.content.models import ReviewMixin

from . import notices


@receiver(page_published)
def notice_on_major_change(sender, instance, revision, **kwargs):
    if isinstance(instance, ReviewMixin) and revision is not None:
        notices.notify_major_change(instance, revision, user=revision.user or None)
