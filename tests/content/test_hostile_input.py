"""The phrasing listing under tampered filters and formula payloads."""

import csv
import io

import pytest

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
