"""The phrasing listing under tampered filters and formula payloads."""

import csv
import io

import pytest
from modelsearch.backends import get_search_backend

from tests.factories import PhrasingFactory

pytestmark = pytest.mark.django_db


def test_out_of_range_section_filter_is_ignored(client, trainer, section):
    PhrasingFactory(title="致歉话术", text="非常抱歉", section=section)
    client.force_login(trainer)
    for value in (str(10**30), "-1", "abc"):
        response = client.get("/admin/snippets/content/phrasing/", {"section": value})
        assert response.status_code == 200


@pytest.mark.parametrize("payload", ["=cmd|' /C calc'!A0", "+1", "@SUM(A1)"])
def test_phrasing_csv_cells_cannot_start_a_formula(client, trainer, section, payload):
    PhrasingFactory(title=payload, text="-1+2", scenario="\t=2", section=section)
    client.force_login(trainer)
    response = client.get("/admin/snippets/content/phrasing/", {"export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    header, row = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))[:2]
    assert all(not cell.startswith(("=", "+", "-", "@", "\t")) for cell in row), row
    assert row[0] == "'" + payload and row[2] == "'-1+2"


@pytest.mark.parametrize(
    "ordering", ["title", "-title", "scenario", "section", "section_id", "live", "-updated_at"]
)
def test_a_search_sorted_by_any_column_is_listed(client, trainer, section, ordering):
    """A search in the phrasing listing, then a click on a column heading, was a 500 (OrderByFieldError)."""
    PhrasingFactory(title="退货致歉", text="非常抱歉给您带来不便，退货已受理", section=section)
    PhrasingFactory(title="退货说明", text="退货请在七日内申请", section=section)
    get_search_backend().refresh_indexes()  # index writes wait for the commit a test never makes
    client.force_login(trainer)
    response = client.get("/admin/snippets/content/phrasing/", {"q": "退货", "ordering": ordering})
    assert response.status_code == 200
    html = response.content.decode()
    assert "退货致歉" in html and "退货说明" in html
