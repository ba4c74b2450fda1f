"""Admin views on result clicks (registered in ``wagtail_hooks``).

- 点击学习关联: the links search learned from clicks (``search.clicks``), with their current weight, for
  trainers and supervisors (``view_learnedlink``); 撤销 stops a link from counting and from being
  taught again, 恢复 lets it count again (``change_learnedlink``, POST).
- 无人点击的搜索: queries searched with results at least N times over a date range whose results nobody
  opened, the way 热门搜索 counts searches (``view_searchclick``).
"""

from django import forms
from django.contrib import messages
from django.db.models import Sum
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django_filters import CharFilter, ChoiceFilter, NumberFilter
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, NumberColumn
from wagtail.admin.views.generic import PermissionCheckedMixin
from wagtail.permission_policies import ModelPermissionPolicy

from kb_site.reports import ColumnsReportView, ExportColumn, LocalTimeColumn, ReportViewSet, display_name
from search import clicks, kinds
from search.models import LearnedLink, SearchClick, ZeroResultQuery
from search.reports import SearchQueryReportView, TopQueriesFilterSet, last_search

learned_link_policy = ModelPermissionPolicy(LearnedLink)

ACTIVE, BLOCKED = "active", "blocked"


class LearnedLinkFilterSet(WagtailFilterSet):
    query = CharFilter(field_name="query_string", lookup_expr="icontains", label=gettext_lazy("搜索词"))
    state = ChoiceFilter(
        label=gettext_lazy("状态"),
        choices=[(ACTIVE, gettext_lazy("生效中")), (BLOCKED, gettext_lazy("已撤销"))],
        method="filter_state",
        empty_label=gettext_lazy("全部"),
    )

    class Meta:
        model = LearnedLink
        fields = []

    def filter_state(self, queryset, name, value):
        return queryset.filter(blocked=value == BLOCKED)


def weight_now(link):
    return round(clicks.current_weight(link), 2)


def result_label(link):
    return f"{kinds.kind_label(link.kind)}：{link.title}"


def state_label(link):
    if not link.blocked:
        return _("生效中")
    by = display_name(link.blocked_by)
    when = f"{timezone.localtime(link.blocked_at):%Y-%m-%d %H:%M}" if link.blocked_at else ""
    return " ".join(filter(None, [_("已撤销"), by, when]))


class LinkActionColumn(Column):
    """撤销 / 恢复: a POST form to ``LinkActionView``, shown to those who may change links."""

    cell_template_name = "search/learned_link_action_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        request = parent_context.get("request")
        context["can_change"] = request is not None and learned_link_policy.user_has_permission(
            request.user, "change"
        )
        if context["can_change"]:
            context["csrf_token"] = get_token(request)
            action = "restore" if instance.blocked else "block"
            context["action_url"] = reverse(f"search_learned_links:{action}", args=[instance.pk])
            context["action_label"] = _("恢复") if instance.blocked else _("撤销")
            params = request.GET.copy()
            params.pop("_w_filter_fragment", None)
            query = params.urlencode()
            context["next_url"] = reverse("search_learned_links:index") + (f"?{query}" if query else "")
        return context


class LearnedLinkReportView(ColumnsReportView):
    """点击学习关联: which query leans toward which result, how strongly now, and who undid it."""

    page_title = gettext_lazy("点击学习关联")
    header_icon = "link"
    index_url_name = "search_learned_links:index"
    index_results_url_name = "search_learned_links:index_results"
    filename_prefix = "search-learned-links"
    filterset_class = LearnedLinkFilterSet
    permission_policy = learned_link_policy
    permission_required = "view"
    columns = [
        Column("query_string", label=gettext_lazy("搜索词")),
        Column("result", label=gettext_lazy("结果"), accessor=result_label),
        ExportColumn("weight_now", label=gettext_lazy("当前权重"), accessor=weight_now),
        NumberColumn("clicks", label=gettext_lazy("点击次数")),
        LocalTimeColumn("last_clicked_at", label=gettext_lazy("最近一次点击")),
        Column("state", label=gettext_lazy("状态"), accessor=state_label),
        LinkActionColumn("action", label=gettext_lazy("操作")),
    ]

    @property
    def no_results_message(self):
        return _("还没有从点击中学到的关联。坐席打开搜索结果且没有马上回来重新搜索时，这里会出现对应的关联。")

    @property
    def export_columns(self):
        return [column for column in self.columns if not isinstance(column, LinkActionColumn)]

    @property
    def list_export(self):
        return [column.name for column in self.export_columns]

    def to_row_dict(self, item):
        return {column.name: self.export_cell(column, item) for column in self.export_columns}

    def get_filename(self):
        return f"{self.filename_prefix}-{timezone.localdate():%Y-%m-%d}"

    def get_queryset(self):
        return LearnedLink.objects.select_related("blocked_by").order_by("-last_clicked_at", "pk")


class LinkActionView(PermissionCheckedMixin, View):
    """撤销 (``block``) or 恢复 one learned link; the answer goes back to the listing with a message."""

    http_method_names = ["post"]
    permission_policy = learned_link_policy
    permission_required = "change"
    block = True

    def post(self, request, pk):
        link = get_object_or_404(LearnedLink, pk=pk)
        values = {"query": link.query_string, "title": link.title}
        if self.block:
            LearnedLink.objects.filter(pk=link.pk).update(
                blocked=True, blocked_by=request.user, blocked_at=timezone.now()
            )
            messages.success(request, _("已撤销“%(query)s”→“%(title)s”：之后的点击也不会再学习它。") % values)
        else:
            LearnedLink.objects.filter(pk=link.pk).update(blocked=False, blocked_by=None, blocked_at=None)
            messages.success(request, _("已恢复“%(query)s”→“%(title)s”。") % values)
        clicks.shared_links.invalidate()
        return redirect(self.next_url(request))

    def next_url(self, request):
        """Back to the listing as it was filtered; anywhere else asked for is ignored."""
        index = reverse("search_learned_links:index")
        wanted = request.POST.get("next", "")
        if wanted.startswith(index) and url_has_allowed_host_and_scheme(wanted, allowed_hosts=None):
            return wanted
        return index


class LearnedLinkViewSet(ReportViewSet):
    """The 点击学习关联 listing and its 撤销 / 恢复 actions."""

    view_class = LearnedLinkReportView

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("<int:pk>/block/", LinkActionView.as_view(block=True), name="block"),
            path("<int:pk>/restore/", LinkActionView.as_view(block=False), name="restore"),
        ]


DEFAULT_MIN_SEARCHES = 3


class UnclickedFilterSet(TopQueriesFilterSet):
    min_searches = NumberFilter(
        label=gettext_lazy("至少搜索次数"),
        method="keep",
        min_value=1,
        widget=forms.NumberInput(attrs={"placeholder": DEFAULT_MIN_SEARCHES}),
    )

    class Meta(TopQueriesFilterSet.Meta):
        pass

    def keep(self, queryset, name, value):
        return queryset  # applied to the aggregated rows by the view


class UnclickedQueryReportView(SearchQueryReportView):
    """无人点击的搜索: queries searched (with results) at least N times over the filtered days whose results
    nobody opened then: the answer is there but does not look like one, or is missing.

    Searches are counted as 热门搜索 counts them (first result pages, unfiltered), less those that found
    nothing (无结果搜索 lists those); any recorded click on a result of the query in those days takes
    it off the list.
    """

    page_title = gettext_lazy("无人点击的搜索")
    header_icon = "view"
    index_url_name = "search_unclicked:index"
    index_results_url_name = "search_unclicked:index_results"
    filename_prefix = "search-unclicked"
    filterset_class = UnclickedFilterSet
    permission_policy = ModelPermissionPolicy(SearchClick)
    permission_required = "view"
    columns = [
        Column("query_string", label=gettext_lazy("搜索词")),
        NumberColumn("searches", label=gettext_lazy("有结果的搜索次数")),
        Column("days", label=gettext_lazy("出现天数")),
        LocalTimeColumn("last_search", label=gettext_lazy("最近一次"), accessor=last_search),
    ]

    @property
    def no_results_message(self):
        return _("所选日期内没有搜了多次却无人打开结果的搜索词。")

    def filter_value(self, name):
        if self.filters is None or not self.filters.is_valid():
            return None
        return self.filters.form.cleaned_data.get(name)

    def get_filtered_queryset(self):
        rows = super().get_filtered_queryset()
        dates = self.filter_value("date")
        minimum = int(self.filter_value("min_searches") or DEFAULT_MIN_SEARCHES)
        nothing_found = ZeroResultQuery.objects.filter(best_coverage__isnull=True)
        opened = SearchClick.objects.all()
        if dates is not None:
            if dates.start is not None:
                nothing_found = nothing_found.filter(date__gte=dates.start)
                opened = opened.filter(clicked_at__gte=dates.start)
            if dates.stop is not None:
                nothing_found = nothing_found.filter(date__lte=dates.stop)
                opened = opened.filter(clicked_at__lte=dates.stop)
        empty = dict(
            nothing_found.values("query_string").annotate(n=Sum("hits")).values_list("query_string", "n")
        )
        opened = set(opened.values_list("query_string", flat=True).distinct())
        listed = []
        for row in rows:
            query = row["query_string"]
            row["searches"] = row["hits"] - empty.get(query, 0)
            if query not in opened and row["searches"] >= minimum:
                listed.append(row)
        listed.sort(key=lambda row: (-row["searches"], row["query_string"]))
        return listed
