"""The 未处理反馈 admin report (the demo's feedback: tests/demo/test_feedback.py)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback import handling
from feedback.models import Feedback
from feedback.targets import resolve
from tests.feedback.conftest import block_ids
from tests.procedures.conftest import login

REPORT = reverse("feedback_open:index")


@pytest.fixture
def sent(agent, article, section, phrasing):
    first = handling.submit(
        resolve(agent, {"page": article.pk, "block": block_ids(article)[0]}), agent, "error", "一"
    )
    handling.submit(
        resolve(agent, {"page": article.pk, "block": block_ids(article)[1]}), agent, "error", "二"
    )
    handling.submit(resolve(agent, {"page": section.pk, "phrasing": phrasing.pk}), agent, "unclear", "三")
    Feedback.objects.filter(pk=first.pk).update(created_at=timezone.now() - timezone.timedelta(days=10))
    return first


def test_the_report_counts_open_feedback_by_owner_type_and_age(client, trainer, supervisor, agent, sent):
    login(client, trainer)
    rows = client.get(REPORT).context["object_list"]
    table = {(row.owner, row.kind): (row.total, row.age_0_2, row.age_8_30, row.oldest) for row in rows}
    assert table == {("李培训", "错误"): (2, 1, 1, 10), ("培训师", "不清楚"): (1, 1, 0, 0)}
    rows = client.get(REPORT, {"min_age": "8"}).context["object_list"]
    assert [(row.owner, row.total) for row in rows] == [("李培训", 1)]
    rows = client.get(REPORT, {"kind": "unclear"}).context["object_list"]
    assert [(row.owner, row.total) for row in rows] == [("培训师", 1)]
    rows = client.get(REPORT, {"owner": trainer.pk}).context["object_list"]
    assert [row.owner for row in rows] == ["李培训"]
    assert client.get(REPORT, {"owner": "9" * 30}).status_code == 200
    handling.reject(sent, trainer, "不是问题")
    assert sum(row.total for row in client.get(REPORT).context["object_list"]) == 2
    response = client.get(REPORT, {"export": "csv"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[0].startswith("负责人,类型,未处理")
    login(client, agent)
    assert client.get(REPORT).status_code == 302
