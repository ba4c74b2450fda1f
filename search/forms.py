"""The one-step fixes a trainer makes from a row of the 无结果搜索 report (``search.admin_views``).

``AddSynonymForm`` puts the query (or one of its words) into an existing ``SynonymGroup`` or makes a new
group of it and the words the trainer types; ``AddPromotionForm`` makes a ``SearchPromotion`` of a page
for the query (``wagtail.contrib.search_promotions``). Both take effect on the next search: synonyms are
read at query time, and the promoted query strings are forgotten when a promotion is saved. Submitting
either twice changes nothing the second time (the word is already in the group, the same group or
promotion exists), so a double click leaves one row.
"""

from django import forms
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _
from wagtail.admin.widgets import AdminPageChooser
from wagtail.contrib.search_promotions.models import Query, SearchPromotion
from wagtail.models import Page
from wagtail.permission_policies.pages import PagePermissionPolicy
from wagtail.search.utils import normalise_query_string

from kb_site.reports import IdChoiceField
from search import synonyms
from search.models import SynonymGroup, parse_terms
from zhtext import content_words

MAX_TERM_LENGTH = 50
MAX_TERMS_LENGTH = 200


def term_choices(query):
    """What a trainer may add for ``query``: the query itself (without spaces), then its content words."""
    query = synonyms.clean_query(query)
    choices = [query] if query and " " not in query else []
    for word in content_words(query):
        if word not in choices:
            choices.append(word)
    return choices


class SynonymGroupField(IdChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


class AddSynonymForm(forms.Form):
    """A word of the query into a synonym group: an existing one, or a new one with the words typed."""

    term = forms.CharField(
        label=_("要添加的词"),
        max_length=MAX_TERM_LENGTH,
        help_text=_("默认为搜索词；也可以只填其中的一个词（不能包含空格）"),
    )
    group = SynonymGroupField(
        queryset=SynonymGroup.objects.all(),
        required=False,
        label=_("加入已有的同义词组"),
        empty_label=_("（不加入已有的组）"),
        error_messages={"invalid_choice": _("请选择一个存在的同义词组。")},
    )
    new_terms = forms.CharField(
        label=_("或与这些词组成新的同义词组"),
        max_length=MAX_TERMS_LENGTH,
        required=False,
        help_text=_("用“=”或逗号分隔，例如“物业费 = 管理费”"),
    )

    def __init__(self, *args, query="", **kwargs):
        super().__init__(*args, **kwargs)
        self.term_choices = term_choices(query)
        if self.term_choices:
            self.fields["term"].initial = self.term_choices[0]
        self.fields["term"].widget.attrs["list"] = "synonym-term-choices"

    def clean_term(self):
        terms = parse_terms(synonyms.clean_query(self.cleaned_data["term"]))
        if not terms:
            raise forms.ValidationError(_("请填写要添加的词。"))
        if len(terms) > 1 or " " in terms[0]:
            raise forms.ValidationError(_("一次只能添加一个词，且不能包含空格或“=”、逗号。"))
        if not content_words(terms[0]):
            raise forms.ValidationError(_("“%(term)s”只由虚词组成，搜索时会被忽略。") % {"term": terms[0]})
        return terms[0]

    def clean_new_terms(self):
        terms = parse_terms(synonyms.clean_query(self.cleaned_data["new_terms"]))
        for term in terms:
            if " " in term:
                raise forms.ValidationError(_("同义词不能包含空格：“%(term)s”。") % {"term": term})
        return terms

    def clean(self):
        cleaned = super().clean()
        group, new_terms, term = cleaned.get("group"), cleaned.get("new_terms"), cleaned.get("term")
        if self.errors:
            return cleaned
        if group is not None and new_terms:
            raise forms.ValidationError(_("请只选择一种方式：加入已有的组，或填写新组的词。"))
        if group is None and not new_terms:
            raise forms.ValidationError(_("请选择一个已有的同义词组，或填写与它同义的词。"))
        if new_terms and [t for t in new_terms if t != term] == []:
            self.add_error("new_terms", _("新的同义词组至少需要另一个不同的词。"))
        return cleaned

    def save(self):
        """Add the word; returns ``(group, changed)`` (``changed`` False if it was already so)."""
        term, group = self.cleaned_data["term"], self.cleaned_data["group"]
        with transaction.atomic():
            if group is not None:
                group = SynonymGroup.objects.select_for_update().get(pk=group.pk)
                if term in group.term_list:
                    return group, False
                group.terms = " = ".join(group.term_list + [term])
                group.save()
                return group, True
            terms = [term] + [t for t in self.cleaned_data["new_terms"] if t != term]
            wanted = set(terms)
            for existing in SynonymGroup.objects.select_for_update():
                if set(existing.term_list) == wanted:
                    return existing, False
            return SynonymGroup.objects.create(terms=" = ".join(terms)), True


class PageChooser(AdminPageChooser):
    """Wagtail's page chooser, showing an empty choice (not a 400) when a tampered id is sent back."""

    def get_instance(self, value):
        try:
            return super().get_instance(value)
        except (ValueError, TypeError, OverflowError):
            return None


class PageChoiceField(IdChoiceField):
    def label_from_instance(self, obj):
        return obj.get_admin_display_title()


class AddPromotionForm(forms.Form):
    """A promoted result (推荐结果) for the query: a page chosen with Wagtail's page chooser."""

    query = forms.CharField(label=_("搜索词"), max_length=255)
    page = PageChoiceField(
        queryset=Page.objects.all(),
        label=_("推荐页面"),
        widget=PageChooser(),
        error_messages={"invalid_choice": _("请选择一个存在的页面。")},
    )
    description = forms.CharField(
        label=_("推荐说明"),
        required=False,
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("可选：显示在推荐结果下方，例如“物业费的收费标准见此页”"),
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_query(self):
        query = normalise_query_string(synonyms.clean_query(self.cleaned_data["query"]))
        if not query:
            raise forms.ValidationError(_("请填写搜索词。"))
        return query

    def clean_page(self):
        # Imported here: ``search.results`` loads the kinds the apps registered.
        from search.results import blocked_page_paths

        page = self.cleaned_data["page"]
        explorable = PagePermissionPolicy().explorable_instances(self.request.user)
        blocked = blocked_page_paths(self.request)
        if (
            page.depth <= 1
            or not explorable.filter(pk=page.pk).exists()
            or (blocked and page.path.startswith(blocked))
        ):
            raise forms.ValidationError(_("您无权查看这个页面，请选择其他页面。"))
        if not page.live:
            raise forms.ValidationError(_("这个页面尚未发布，坐席搜索时看不到它，请选择已发布的页面。"))
        return page

    def save(self):
        """Promote the page; returns ``(promotion, created)`` (an existing one for the same page is kept)."""
        data = self.cleaned_data
        with transaction.atomic():
            query = Query.get(data["query"])
            # Lock the query row, so that a second submit waits and then finds the first promotion.
            Query.objects.select_for_update().filter(pk=query.pk).exists()
            existing = SearchPromotion.objects.filter(query=query, page=data["page"]).first()
            if existing is not None:
                return existing, False
            last = SearchPromotion.objects.filter(query=query).aggregate(last=Max("sort_order"))["last"]
            promotion = SearchPromotion.objects.create(
                query=query,
                page=data["page"],
                description=data["description"],
                sort_order=0 if last is None else last + 1,
            )
            return promotion, True
