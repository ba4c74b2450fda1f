"""Receivers: a published 重大变更 of an article or procedure becomes a change notice."""

from django.dispatch import receiver
from wagtail.signals import page_published

from kb_site.content.models import ReviewMixin

from . import notices


@receiver(page_published)
def notice_on_major_change(sender, instance, revision, **kwargs):
    """Record the notice of a major change; then clear the class on the page row (not a revision: the
    published revision keeps it), so a later revision saved from the page in code, such as a demo
    reload or an import, does not inherit this publish's class."""
    if not isinstance(instance, ReviewMixin) or revision is None:
        return
    notices.notify_major_change(instance, revision, user=revision.user or None)
    if instance.change_class or instance.change_summary:
        type(instance).objects.filter(pk=instance.pk).update(change_class="", change_summary="")
        instance.change_class, instance.change_summary = "", ""
