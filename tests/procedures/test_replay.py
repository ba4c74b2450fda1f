"""Replay: a run stepped through event by event as its agent saw it (``procedures:replay``).

Each event shows the step from the run's snapshot, filled with the values known when it was on screen
(the start values and what earlier events collected, never later ones), what the agent did, when, and
on which revision. Only the run's agent and supervisors see it; nothing on the page posts.
"""

import json
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from kb_site.content.models import Phrasing
from procedures.models import ProcedurePage, ProcedureRun
from procedures.runs import apply_move, start_run
from tests.procedures.conftest import login

ORDER = {"订单号": "A100", "商品名称": "保温杯", "少货金额": "30"}


def move(run, user, action, **kwargs):
    run = ProcedureRun.objects.get(pk=run.pk)
    return apply_move(run.pk, user, step=run.current_step, seq=run.next_seq, action=action, **kwargs)


def refund_run(page, user, practice=False):
    """少货处理 to its end: greet → 外包装完好 → collect → 三步核实 → 确实少发 → rule → 退款 (7 events)."""
    run = start_run(page, user, variables={"客户称呼": "王女士"}, practice=practice)
    move(run, user, "next", note="客户很着急")
    move(run, user, "answer", answer="0")
    move(run, user, "next", inputs=ORDER)
    move(run, user, "next", checked=(0, 1, 2))
    move(run, user, "answer", answer="0")
    return ProcedureRun.objects.get(pk=run.pk)


def replay(client, run, seq):
    return client.get(reverse("procedures:replay", args=[run.pk, seq]))


def step_html(response):
    """The replayed step's own section (the list of all events below it shows every event's values)."""
    assert response.status_code == 200, response.content.decode()[:2000]
    html = response.content.decode()
    return re.search(r'<section class="run-step.*?</section>', html, re.S).group(0)


def main_html(response):
    return re.search(r"<main.*?</main>", response.content.decode(), re.S).group(0)


def publish_with(page, **changes):
    """Publish a new version of ``page`` with each step ``key → {field: value}`` changed."""
    page = ProcedurePage.objects.get(pk=page.pk)
    raw = list(page.steps.raw_data)
    for block in raw:
        block["value"].update(changes.get(block["value"]["key"], {}))
    page.steps = raw
    page.save_revision().publish()
    return ProcedurePage.objects.get(pk=page.pk)


def test_the_agent_replays_their_run_event_by_event(client, agent, missing_item):
    run = refund_run(missing_item, agent)
    assert [e.seq for e in run.logged_events] == [1, 2, 3, 4, 5, 6, 7]
    login(client, agent)

    start = client.get(reverse("procedures:replay_start", args=[run.pk]))
    assert start.status_code == 302 and start["Location"] == reverse("procedures:replay", args=[run.pk, 1])

    first = replay(client, run, 1)
    html = first.content.decode()
    assert "回放" in html and "run-replay-banner" in html
    section = step_html(first)
    assert "问候并确认来意" in section and "客户很着急" in section  # the step and the note left on it
    assert "我是" in section and "王女士" in section  # its phrasing, filled
    assert 'rel="prev"' not in html
    assert f'href="{reverse("procedures:replay", args=[run.pk, 2])}" data-key="ArrowRight"' in html
    event = run.logged_events[0]
    assert f"{timezone.localtime(event.entered_at):%Y-%m-%d %H:%M:%S}" in section
    assert f"#{run.revision_id}（运行开始时固定的版本）" in section

    # The question: its text filled, the answer the agent chose highlighted, the other not.
    section = step_html(replay(client, run, 2))
    assert "请<span" in section and ">王女士</span>看一下" in section
    assert '<span class="btn btn-answer btn-primary" aria-current="true">✓ 完好</span>' in section
    assert '<span class="btn btn-answer">有破损或被拆过</span>' in section
    assert "→ 记录订单和少货信息" in section

    # The input step: what was typed.
    section = step_html(replay(client, run, 3))
    assert '<input value="A100" readonly>' in section and '<input value="30" readonly>' in section
    assert "少货金额（元）" in section

    # The checklist, ticked.
    section = step_html(replay(client, run, 4))
    assert section.count("disabled checked>") == 3

    # The rule and the outcome; the last event has no next link.
    assert "规则判断" in step_html(replay(client, run, 6)) and "→ 退款给客户" in step_html(
        replay(client, run, 6)
    )
    last = replay(client, run, 7)
    html = last.content.decode()
    assert "退款给客户" in step_html(last) and 'rel="next"' not in html
    assert f'href="{reverse("procedures:replay", args=[run.pk, 6])}" data-key="ArrowLeft"' in html
    # Every event is listed to jump to.
    for seq in range(1, 7):
        assert f'href="{reverse("procedures:replay", args=[run.pk, seq])}"' in html


def test_values_collected_later_are_not_shown_at_an_earlier_step(client, agent, missing_item):
    """A phrasing with {少货金额} on the question before the input step shows the gap there; the refund
    phrasing after it shows the amount, as does that same question when the agent comes back to it."""
    ahead = {"phrasing": None, "label": "预告退款", "scenario": "", "text": "可以退您{少货金额}元"}
    page = publish_with(
        missing_item,
        **{"ask-package": {"phrasings": [{"type": "item", "value": ahead, "id": str(uuid.uuid4())}]}},
    )
    run = start_run(page, agent, variables={"客户称呼": "王女士"})
    move(run, agent, "next")
    move(run, agent, "answer", answer="0")  # 2: ask-package
    move(run, agent, "next", inputs=ORDER)  # 3: collect
    move(run, agent, "back")  # 4: verify → back to collect
    move(run, agent, "back")  # 5: collect → back to ask-package
    move(run, agent, "answer", answer="0")  # 6: ask-package again, the amount now known
    move(run, agent, "next", inputs=ORDER)
    move(run, agent, "next", checked=(0, 1, 2))
    move(run, agent, "answer", answer="0")
    run = ProcedureRun.objects.get(pk=run.pk)
    assert run.status == "completed" and run.outcome == "已解决"
    login(client, agent)

    gap = '<input class="ph ph-gap" data-ph="少货金额"'
    filled = '<span class="ph ph-filled" data-ph="少货金额">30</span>'
    before = step_html(replay(client, run, 2))
    assert "可以退您" in before and gap in before and filled not in before
    assert ">30<" not in before
    # The input step itself is shown as it was entered: the amount is what was typed there, not known yet.
    at_input = step_html(replay(client, run, 3))
    assert '<input value="30" readonly>' in at_input

    again = step_html(replay(client, run, 6))
    assert filled in again and gap not in again
    refund = step_html(replay(client, run, run.logged_events[-1].seq))
    assert "退款告知" in refund and filled in refund
    assert '<span class="ph ph-filled" data-ph="商品名称">保温杯</span>' in refund


def test_the_snapshot_is_replayed_after_the_procedure_and_a_phrasing_are_edited(client, agent, missing_item):
    run = refund_run(missing_item, agent)
    greeting = Phrasing.objects.get(title="开场问候", section=missing_item.get_parent())
    old_greeting = greeting.text
    greeting.text = "新版问候：{客户称呼}您好！"
    greeting.save_revision().publish()
    newer = publish_with(
        missing_item, **{"ask-package": {"title": "新版：包装怎么样？", "text": "<p>新说明</p>"}}
    )
    assert newer.live_revision_id != run.revision_id
    login(client, agent)

    first = step_html(replay(client, run, 1))
    assert "很高兴为您服务" in first and "新版问候" not in first
    assert old_greeting.split("{")[0] in first
    second = step_html(replay(client, run, 2))
    assert "外包装是否完好？" in second and "新版" not in second and "新说明" not in second
    assert f"#{run.revision_id}（运行开始时固定的版本）" in second


@pytest.mark.parametrize("who, status", [("supervisor", 200), ("other_agent", 404), ("trainer", 404)])
def test_who_may_replay_another_agents_run(client, request, who, status, agent, missing_item):
    run = refund_run(missing_item, agent)
    login(client, request.getfixturevalue(who))
    assert replay(client, run, 2).status_code == status
    start = client.get(reverse("procedures:replay_start", args=[run.pk]))
    assert start.status_code == (302 if status == 200 else 404)
    if status == 200:
        html = replay(client, run, 2).content.decode()
        assert "✓ 完好" in html and "小王" in html
        assert reverse("procedures_runs:timeline", args=[run.pk]) in html
        assert f'href="{reverse("procedures:run", args=[run.pk])}"' not in html  # not their run screen


def test_anonymous_visitors_are_sent_to_login(client, agent, missing_item):
    run = refund_run(missing_item, agent)
    response = replay(client, run, 1)
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("seq", [0, 8, 10**30])
def test_a_seq_outside_the_run_is_not_found(client, agent, missing_item, seq):
    run = refund_run(missing_item, agent)
    login(client, agent)
    assert replay(client, run, seq).status_code == 404


def test_a_run_without_events_has_nothing_to_replay(client, agent, missing_item):
    run = start_run(missing_item, agent)
    login(client, agent)
    assert client.get(reverse("procedures:replay_start", args=[run.pk])).status_code == 404
    assert replay(client, run, 1).status_code == 404
    assert json.loads(client.get(reverse("procedures:run_json", args=[run.pk])).content)["replay_url"] is None


def test_nothing_on_the_replay_posts(client, agent, missing_item):
    run = refund_run(missing_item, agent)
    login(client, agent)
    for seq in range(1, 8):
        main = main_html(replay(client, run, seq))
        assert "<form" not in main and "csrfmiddlewaretoken" not in main
        assert 'type="submit"' not in main and "<button" not in main
        assert reverse("procedures:move", args=[run.pk]) not in main
    assert client.post(reverse("procedures:replay", args=[run.pk, 1])).status_code == 405
    assert ProcedureRun.objects.get(pk=run.pk).next_seq == 8  # nothing written


def test_a_practice_run_is_marked_and_an_unfinished_run_replays_what_it_logged(client, agent, missing_item):
    run = start_run(missing_item, agent, variables={"客户称呼": "王女士"}, practice=True)
    move(run, agent, "next")
    login(client, agent)
    html = replay(client, run, 1).content.decode()
    assert '<span class="badge badge-practice">练习</span>' in html and "回到流程" in html
    assert replay(client, run, 2).status_code == 404  # the step on screen now is no event yet


def test_the_summary_the_timeline_and_the_json_link_to_the_replay(client, agent, supervisor, missing_item):
    run = refund_run(missing_item, agent)
    start = reverse("procedures:replay_start", args=[run.pk])
    login(client, agent)
    summary = client.get(reverse("procedures:run", args=[run.pk])).content.decode()
    assert f'<a class="btn" href="{start}">逐步回放</a>' in summary
    data = json.loads(client.get(reverse("procedures:run_json", args=[run.pk])).content)
    assert data["replay_url"] == reverse("procedures:replay", args=[run.pk, 1])

    login(client, supervisor)
    timeline = client.get(reverse("procedures_runs:timeline", args=[run.pk])).content.decode()
    assert start in timeline
    assert f'href="{reverse("procedures:replay", args=[run.pk, 5])}"' in timeline
