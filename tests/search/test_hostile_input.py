"""Hostile queries: cleaned where they enter, and the search reports' exports survive what is stored."""

import csv
import io

import pytest
from django.db import connection
from wagtail.contrib.search_promotions.models import Query

from search.models import ZeroResultQuery

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("search_index")]

REPORTS = ("/admin/reports/top-queries/", "/admin/reports/zero-results/")


def exported(client, url, fmt):
    response = client.get(url, {"export": fmt})
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_noncharacters_never_reach_the_statistics(agent_client, trainer, client, kb):
    assert agent_client.get("/search/", {"q": "发票\ufffe抬头\x0b"}).status_code == 200
    assert ZeroResultQuery.objects.get().query_string == "发票 抬头"
    assert Query.objects.filter(query_string__contains="\ufffe").count() == 0
    client.force_login(trainer)
    for url in REPORTS:
        assert exported(client, url, "xlsx")[:2] == b"PK"


def test_exports_survive_what_was_stored_before(client, trainer):
    ZeroResultQuery.objects.create(query_string="坏\ufffe字\x0b符", date="2026-11-30", hits=1)
    Query.get("旧\x0b查询" + ("\x00" if connection.vendor == "sqlite" else "")).add_hit()
    client.force_login(trainer)
    for url in REPORTS:
        assert exported(client, url, "xlsx")[:2] == b"PK"
        exported(client, url, "csv")


@pytest.mark.parametrize("payload", ["=1+1", "+1", "-1+2", "@SUM(A1)"])
def test_query_csv_cells_cannot_start_a_formula(client, trainer, payload):
    ZeroResultQuery.objects.create(query_string=payload, date="2026-11-30", hits=1)
    Query.get(payload).add_hit()
    client.force_login(trainer)
    for url in REPORTS:
        rows = list(csv.reader(io.StringIO(exported(client, url, "csv").decode("utf-8-sig"))))
        assert rows[1][0].lower() == ("'" + payload).lower()  # query strings are stored lowercased
