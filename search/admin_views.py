"""From a row of the 无结果搜索 report, one step: add a synonym, or a promoted result, for the query.

``GET …/zero-results/synonym/?q=<query>`` shows ``search.forms.AddSynonymForm`` with the query filled
in; ``…/zero-results/promote/?q=<query>`` shows ``AddPromotionForm`` with Wagtail's page chooser. A
valid POST saves, says so and goes back to the report (with its filters: ``next``). Adding a synonym
takes ``add_synonymgroup`` and ``change_synonymgroup``, a promoted result ``add_searchpromotion``
(trainers and supervisors have them); others are refused as Wagtail refuses them.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.contrib.search_promotions.models import SearchPromotion
from wagtail.permission_policies import ModelPermissionPolicy

from search.forms import AddPromotionForm, AddSynonymForm
from search.models import SynonymGroup

REPORT_URL_NAME = "search_zero_results:index"
synonym_policy = ModelPermissionPolicy(SynonymGroup)
promotion_policy = ModelPermissionPolicy(SearchPromotion)


def may_add_synonym(user):
    return synonym_policy.user_has_permission(user, "add") and synonym_policy.user_has_permission(
        user, "change"
    )


def may_add_promotion(user):
    return promotion_policy.user_has_permission(user, "add")


def _back_to_report(request):
    """The report the trainer came from (``next``, if it is this site's report), else its first page."""
    report = reverse(REPORT_URL_NAME)
    next_url = get_valid_next_url_from_request(request)
    return next_url if next_url and next_url.startswith(report) else report


def _query(request):
    return (request.POST.get("q") or request.GET.get("q") or "")[:255]


def _render(request, form, title, query, next_url, status=200, **extra):
    return TemplateResponse(
        request,
        "search/admin/zero_result_action.html",
        {"form": form, "title": title, "query": query, "next": next_url, "media": form.media, **extra},
        status=status,
    )


def add_synonym(request):
    """加同义词 for the query of a report row."""
    if not may_add_synonym(request.user):
        raise PermissionDenied
    query, next_url = _query(request), _back_to_report(request)
    form = AddSynonymForm(request.POST or None, query=query)
    if request.method == "POST" and form.is_valid():
        group, changed = form.save()
        values = {"term": form.cleaned_data["term"], "group": str(group)}
        if changed:
            messages.success(request, _("已添加同义词“%(term)s”：%(group)s。下一次搜索即生效。") % values)
        else:
            messages.info(request, _("“%(term)s”已在同义词组中：%(group)s。") % values)
        return redirect(next_url)
    return _render(
        request,
        form,
        gettext_lazy("加同义词"),
        query,
        next_url,
        status=400 if form.errors else 200,
        term_choices=form.term_choices,
    )


def add_promotion(request):
    """设推荐结果 for the query of a report row."""
    if not may_add_promotion(request.user):
        raise PermissionDenied
    query, next_url = _query(request), _back_to_report(request)
    form = AddPromotionForm(request.POST or None, request=request, initial={"query": query})
    if request.method == "POST" and form.is_valid():
        promotion, created = form.save()
        values = {"query": promotion.query.query_string, "title": promotion.page.title}
        if created:
            messages.success(
                request, _("已为“%(query)s”设置推荐结果“%(title)s”，下一次搜索即排在最前。") % values
            )
        else:
            messages.info(request, _("“%(title)s”已经是“%(query)s”的推荐结果。") % values)
        return redirect(next_url)
    return _render(
        request, form, gettext_lazy("设推荐结果"), query, next_url, status=400 if form.errors else 200
    )


def admin_urls():
    """``register_admin_urls``: beside the report's own URLs."""
    return [
        path("reports/zero-results/synonym/", add_synonym, name="search_zero_results_add_synonym"),
        path("reports/zero-results/promote/", add_promotion, name="search_zero_results_add_promotion"),
    ]
