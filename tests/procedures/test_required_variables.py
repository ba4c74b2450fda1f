"""Required variables and the labels of collected values, through the agent's browser path.

A variable marked required that no input step collects (客户称呼 in the demo procedures) must be given
when the run starts, or every phrasing shows a gap. One an input step collects is required there.
Every value the summary shows carries the variable's own label (补发天数, not the name 天数).
"""

import re

from django.urls import reverse

from procedures.models import ProcedureRun, RunEvent, RunStatus
from tests.procedures.conftest import login
from tests.procedures.test_procedure_views import step

START_REQUIRED = "开始前请填写“客户称呼”"


def post_start(client, page, data):
    assert client.get(page.url).status_code == 200
    return client.post(reverse("procedures:start", args=[page.pk]), data)


def field_html(html, name):
    """The start form's ``<label>`` around the field ``name``."""
    match = re.search(
        rf'<label class="field[^"]*">(?:(?!</label>).)*name="{name}"(?:(?!</label>).)*</label>', html, re.S
    )
    assert match, name
    return match.group(0)


def test_a_required_variable_left_empty_at_start_is_shown_on_its_field_and_starts_nothing(
    client, agent, missing_item
):
    login(client, agent)
    for empty in ("", "   ", "\u3000"):
        response = post_start(client, missing_item, {"v-客户称呼": empty, "ref": "CALL-8"})
        assert response.status_code == 400
        html = response.content.decode()
        field = field_html(html, "v-客户称呼")
        assert "has-error" in field and START_REQUIRED in field
        assert 'value="CALL-8"' in html  # what was typed is kept
    response = post_start(client, missing_item, {"ref": "CALL-8"})  # the field not posted at all
    assert response.status_code == 400 and START_REQUIRED in response.content.decode()
    assert not ProcedureRun.objects.exists()


def test_a_required_variable_an_input_step_collects_may_wait_for_that_step(client, agent, missing_item):
    """订单号 is required too, but the 记录订单和少货信息 step collects it: the call has not told it yet."""
    login(client, agent)
    response = post_start(client, missing_item, {"v-客户称呼": "王女士"})
    assert response.status_code == 302
    run = ProcedureRun.objects.get()
    assert run.variables == {"客户称呼": "王女士"}


def test_the_start_form_marks_what_must_be_filled(client, agent, missing_item):
    login(client, agent)
    html = client.get(missing_item.url).content.decode()
    name_field = field_html(html, "v-客户称呼")
    assert " required" in name_field and "*" in name_field
    order_field = field_html(html, "v-订单号")
    assert " required" not in order_field and "*" not in order_field


def test_an_input_step_refuses_an_empty_required_value(client, agent, missing_item):
    login(client, agent)
    assert post_start(client, missing_item, {"v-客户称呼": "王女士"}).status_code == 302
    run = ProcedureRun.objects.get()
    step(client, run, action="next")
    step(client, run, answer="0")
    response = step(
        client,
        run,
        expect_status=400,
        action="next",
        **{"v-订单号": " ", "v-商品名称": "保温杯", "v-少货金额": "30"},
    )
    html = response.content.decode()
    assert "请填写“订单号”" in html and 'value="保温杯"' in html
    run.refresh_from_db()
    assert run.current_step == "collect" and RunEvent.objects.filter(run=run).count() == 2


def reship_in_three_days(client, agent, missing_item):
    """少货处理 down to 补发: the 约定补发时间 step collects 天数, labelled 补发天数."""
    login(client, agent)
    assert post_start(client, missing_item, {"v-客户称呼": "王女士", "ref": "CALL-5"}).status_code == 302
    run = ProcedureRun.objects.get()
    step(client, run, action="next")
    step(client, run, answer="0")
    step(client, run, action="next", **{"v-订单号": "A100", "v-商品名称": "保温杯", "v-少货金额": "80"})
    step(client, run, action="next", check=["0", "1", "2"])
    step(client, run, answer="0")  # 确实少发; 80 元 > 50: negotiate
    step(client, run, answer="1")  # 补发
    step(client, run, action="next", **{"v-天数": "3"})
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED and run.outcome == "已解决"
    return run


def summary_text(html):
    return re.search(r'<textarea id="run-summary-text"[^>]*>(.*?)</textarea>', html, re.S).group(1)


def test_the_summary_labels_each_value_one_way(client, agent, supervisor, missing_item):
    run = reship_in_three_days(client, agent, missing_item)
    html = client.get(reverse("procedures:run", args=[run.pk])).content.decode()
    text = summary_text(html)
    assert "【补发天数】3" in text and "约定补发时间 → 补发天数：3" in text
    assert "【少货金额（元）】80" in text and "少货金额（元）：80" in text.split("【经过】")[1]
    assert not re.search(r"(?<!补发)天数：", text) and not re.search(r"少货金额：", text)
    # the timeline under it says the same
    timeline = html.split('id="timeline-heading"')[1]
    assert "补发天数：3" in timeline and not re.search(r"(?<!补发)天数：", timeline)

    login(client, supervisor)
    admin = client.get(reverse("procedures_runs:timeline", args=[run.pk])).content.decode()
    assert "补发天数：3" in admin and not re.search(r"(?<!补发)天数：", admin)


def test_the_path_beside_a_step_uses_the_labels_too(client, agent, missing_item):
    login(client, agent)
    assert post_start(client, missing_item, {"v-客户称呼": "王女士"}).status_code == 302
    run = ProcedureRun.objects.get()
    step(client, run, action="next")
    step(client, run, answer="0")
    step(client, run, action="next", **{"v-订单号": "A100", "v-商品名称": "保温杯", "v-少货金额": "80"})
    html = client.get(reverse("procedures:run", args=[run.pk])).content.decode()
    assert "少货金额（元）：80" in html and "少货金额：80" not in html
