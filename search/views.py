from django.core.paginator import Paginator
from django.shortcuts import render
from wagtail.models import Page

from kb_site.content.models import Phrasing


def search(request):
    """Results page for the header search box."""
    query = (request.GET.get("q") or "").strip()[:200]
    pages = []
    phrasings = []
    if query:
        pages = Page.objects.live().public().search(query)
        phrasings = list(Phrasing.objects.filter(live=True).search(query)[:10])
    paginator = Paginator(pages, 20)
    page_obj = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "search/search.html",
        {"search_query": query, "page_obj": page_obj, "phrasings": phrasings},
    )
