"""The procedure editor's flow map view and widgets, through the Django test client and the real admin URLs."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

MAP_URL = "/admin/procedures/flow-map/"


def empty():
    return {"count": "0"}


def instruction(key, title, next_key):
    common = {"text": rich_text(""), "phrasings": empty(), "follow_ups": empty(), "checklist": empty()}
    return ("instruction", {"key": key, "title": title, "next": next_key, **common})


def question(key, title, *answers):
    items = {"count": str(len(answers))}
    for index, (label, next_key) in enumerate(answers):
        items.update(
            {
                f"{index}-deleted": "",
                f"{index}-order": str(index),
                f"{index}-id": f"answer-{key}-{index}",
                f"{index}-value-label": label,
                f"{index}-value-next": next_key,
            }
        )
    fields = {"text": rich_text(""), "phrasings": empty(), "follow_ups": empty(), "answers": items}
    return ("question", {"key": key, "title": title, **fields})


def outcome(key, title, name="已解决"):
    fields = {"text": rich_text(""), "phrasings": empty(), "follow_ups": empty()}
    return ("outcome", {"key": key, "title": title, "outcome": name, **fields})


def map_post(steps, outcomes="", **extra):
    """What the editor's script posts: the page form's fields, of which the map reads steps, variables and
    outcomes (the whole form goes, as ``new FormData(form)`` sends it)."""
    return nested_form_data(
        {
            "title": "新流程",
            "slug": "new-flow",
            "when_to_use": "测试",
            "variables": streamfield([]),
            "outcomes": outcomes,
            "steps": streamfield(steps),
            **extra,
        }
    )


BRANCHING = [
    instruction("greet", "问候并确认来意", "ask"),
    question("ask", "外包装是否完好？", ("完好", "fine"), ("破损", "damaged")),
    outcome("fine", "正常处理"),
    outcome("damaged", "转运输破损处理", name="已转接"),
]


def cards(response):
    """``{title: card html}`` for each step box of the map fragment."""
    content = response.content.decode()
    found = {}
    for box in re.findall(
        r'<div class="cb-flow-step .*?</div>\s*(?=<div class="cb-flow-step |</li>)', content, re.S
    ):
        title = re.search(r'<strong class="cb-flow-step__title">(.*?)</strong>', box).group(1)
        found[title] = box
    return found


@pytest.fixture
def trainer_client(client, trainer, section):
    client.force_login(trainer)
    return client


def test_map_shows_steps_as_boxes_with_labelled_arrows(trainer_client):
    response = trainer_client.post(MAP_URL, map_post(BRANCHING))
    assert response.status_code == 200
    boxes = cards(response)
    assert list(boxes) == ["问候并确认来意", "外包装是否完好？", "正常处理", "转运输破损处理"]
    assert "没有发现问题" in response.content.decode()
    ask = boxes["外包装是否完好？"]
    assert 'data-step-key="ask"' in ask and 'data-step-index="1"' in ask
    arrows = re.findall(
        r'cb-flow-arrow__label">(.*?)</span> → <span class="cb-flow-arrow__target">(.*?)<', ask
    )
    assert arrows == [("完好", "正常处理"), ("破损", "转运输破损处理")]
    assert "has-errors" not in "".join(boxes.values())


def test_map_marks_a_missing_target_on_its_step(trainer_client):
    steps = [
        instruction("greet", "问候并确认来意", "ask"),
        question("ask", "外包装是否完好？", ("完好", "fine"), ("破损", "")),
        outcome("fine", "正常处理"),
    ]
    response = trainer_client.post(MAP_URL, map_post(steps))
    assert response.status_code == 200
    boxes = cards(response)
    assert "has-errors" in boxes["外包装是否完好？"]
    assert "请选择下一步" in boxes["外包装是否完好？"]
    assert 'cb-flow-arrow is-missing" data-target=""' in boxes["外包装是否完好？"]
    assert "has-errors" not in boxes["问候并确认来意"] + boxes["正常处理"]
    assert 'data-error-count="1"' in response.content.decode()


def test_map_marks_unreachable_steps_and_dead_ends(trainer_client):
    steps = [
        instruction("greet", "问候", "loop"),
        instruction("loop", "反复确认", "greet"),
        outcome("done", "完成"),
    ]
    response = trainer_client.post(MAP_URL, map_post(steps))
    boxes = cards(response)
    assert "从起点“greet”无法到达这个步骤" in boxes["完成"]
    assert "无法走到任何结果步骤" in boxes["问候"] and "无法走到任何结果步骤" in boxes["反复确认"]


def test_map_checks_outcome_names_as_saving_does(trainer_client):
    response = trainer_client.post(MAP_URL, map_post(BRANCHING, outcomes="已解决\n已升级"))
    boxes = cards(response)
    assert "结果“已转接”不在可选结果中" in boxes["转运输破损处理"]
    assert "has-errors" not in boxes["正常处理"]


def test_map_gives_keyless_steps_a_key_as_saving_does(trainer_client):
    steps = [instruction("", "问候", "done"), outcome("done", "完成")]
    response = trainer_client.post(MAP_URL, map_post(steps))
    assert response.status_code == 200
    assert "没有发现问题" in response.content.decode()
    assert re.search(r'data-step-key="s-[0-9a-f]{6}"', response.content.decode())


def test_map_of_a_page_being_edited_is_for_those_who_can_edit_it(client, trainer, missing_item):
    client.force_login(trainer)
    response = client.post(MAP_URL, map_post(BRANCHING, page=str(missing_item.pk)))
    assert response.status_code == 200
    response = client.post(MAP_URL, map_post(BRANCHING, page="999999"))  # no such page
    assert response.status_code == 400 and "cb-flow-step" not in response.content.decode()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda data: data.pop("steps-count"),
        lambda data: data.update({"steps-count": "x"}),
        lambda data: data.pop("steps-1-value-answers-count"),
        lambda data: data.update({"steps-0-value-text": "{not json"}),
        lambda data: data.update({"page": "abc"}),
    ],
    ids=["no-count", "bad-count", "no-answers-count", "bad-rich-text", "bad-page"],
)
def test_bad_form_data_is_a_400_with_a_message(trainer_client, tamper):
    data = map_post(BRANCHING)
    tamper(data)
    response = trainer_client.post(MAP_URL, data)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert "cb-flow-step" not in response.content.decode()


def test_map_is_post_only_and_csrf_protected(trainer, section):
    client = Client(enforce_csrf_checks=True)
    client.force_login(trainer)
    assert client.post(MAP_URL, map_post(BRANCHING)).status_code == 403
    assert client.get(MAP_URL).status_code == 405


@pytest.mark.parametrize("who", ["agent", "newhire"])
def test_users_who_cannot_edit_pages_get_no_map(client, request, who, section):
    client.force_login(request.getfixturevalue(who))
    response = client.post(MAP_URL, map_post(BRANCHING))
    assert response.status_code in (302, 403)
    assert "cb-flow-step" not in response.content.decode()


def test_anonymous_users_are_sent_to_login(client, section):
    response = client.post(MAP_URL, map_post(BRANCHING))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_editor_shows_the_map_and_the_pickers(client, trainer, missing_item):
    client.force_login(trainer)
    response = client.get(reverse("wagtailadmin_pages:edit", args=[missing_item.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "<callbook-flow-map" in content and f'data-page="{missing_item.pk}"' in content
    assert 'data-url="/admin/procedures/flow-map/"' in content
    assert "procedures/flow-editor.js" in content and "procedures/flow-editor.css" in content
    # The blocks' widgets travel in the StreamField's telepath data (escaped JSON in an attribute).
    widgets = html.unescape(content)
    assert "<callbook-step-target" in widgets and "<callbook-step-key" in widgets and "data-new=" in widgets
