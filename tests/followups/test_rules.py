"""Follow-up rules are part of the procedure: a rule that cannot give a due time, or names a group that
does not exist, is an error when the procedure is saved; a good rule is kept in the run's snapshot."""

import pytest
from django.core.exceptions import ValidationError

from procedures.blocks import FollowUpRuleBlock
from procedures.runs import start_run

from .conftest import rule

pytestmark = pytest.mark.django_db


def clean(**fields):
    block = FollowUpRuleBlock()
    return block.clean(block.to_python({**rule("三天内回访"), **fields}))


def test_a_good_rule_is_accepted():
    assert clean(unit="workdays", before_hour=18)["before_hour"] == 18


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"unit": "hours", "before_hour": 18}, "只能和“天”或“工作日”一起用"),
        ({"assign_to": "group", "group": ""}, "要填写它的名称"),
        ({"assign_to": "group", "group": "不存在的组"}, "没有名为“不存在的组”的组"),
        ({"amount": 0}, ""),
    ],
)
def test_rules_that_cannot_give_a_due_time_or_an_owner_are_refused(fields, message):
    with pytest.raises(ValidationError) as error:
        clean(**fields)
    assert message in str(error.value.__dict__)


def test_the_rule_is_kept_in_the_run_snapshot(agent, missing_item_with_callback, callback_procedure):
    run = start_run(missing_item_with_callback, agent, variables={"客户称呼": "王女士"})
    [kept] = (
        run.definition and [s for s in run.get_procedure().steps if s["key"] == "refund"][0]["follow_ups"]
    )
    assert (kept["unit"], kept["amount"], kept["procedure"]) == ("workdays", 3, callback_procedure.pk)
