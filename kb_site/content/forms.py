"""The page editor's form for reviewable content (articles, procedures): each change is classed anew."""

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminPageForm


class ReviewedPageForm(WagtailAdminPageForm):
    """``ReviewMixin.base_form_class``.

    The class of a change (重大变更 / 一般 / 勘误) belongs to one publish. The editor opens the latest
    revision, which still holds the class of the change last published; when nothing is pending (the
    page is live without unpublished changes) a new change starts, so the class and its summary start
    empty instead of carrying a 重大变更 over silently. A draft in progress keeps what its author chose.
    A major change needs a summary: it is what the agents read first when asked to acknowledge it.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        page = self.instance
        if (
            not self.is_bound
            and page.pk
            and page.live
            and not page.has_unpublished_changes
            and "change_class" in self.fields
        ):
            self.initial["change_class"] = ""
            self.initial["change_summary"] = ""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("change_class") == "major" and not (cleaned.get("change_summary") or "").strip():
            self.add_error(
                "change_summary", forms.ValidationError(_("重大变更请写一句变更说明，坐席确认时会先看到它。"))
            )
        return cleaned
