"""The content health report on the demo: zero-result searches near the pages that should answer them,
and page views to rank by."""

from django.contrib.auth import get_user_model
from django.urls import reverse

URL = reverse("health")


def test_the_demo_has_searches_and_views_to_rank(client, demo):
    client.force_login(get_user_model().objects.get(username="trainer"))
    items = {item.title: item for item in client.get(URL + "?days=14").context["page"].paginator.object_list}
    assert items["物业客服的职责与服务原则"].zero_result_queries[0] == ("物业费怎么交", 12)
    assert ("少货怎么赔", 9) in items["少货处理"].zero_result_queries
    assert ("少货怎么赔", 9) in items["少货处理规范"].zero_result_queries
    assert items["查件与催件"].views == 22 and items["少货处理"].views >= 20
    near = {query for item in items.values() for query, _hits in item.zero_result_queries}
    assert "怎么办" not in near and "这个多少" not in near  # only generic words: near nothing
    by_zero = client.get(URL + "?days=14&sort=zero").context["page"].object_list
    assert by_zero[0].zero_result_hits > 0 and by_zero[0].zero_result_hits >= by_zero[1].zero_result_hits
