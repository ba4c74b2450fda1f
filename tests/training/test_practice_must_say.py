"""Practice scoring and 必说 lines: where a step marks a line 必说, the agent's tick is the evidence that
it was said (``training.practice.said_lines``)."""

from procedures.runs import apply_move
from tests.factories import PhrasingFactory
from tests.procedures.conftest import must_say_procedure  # noqa: F401
from training.models import ScenarioCard
from training.practice import said_lines, start_practice


def test_practice_scoring_takes_the_ticks_as_evidence_for_must_say_lines(
    must_say_procedure,  # noqa: F811
    section,
    newhire,
):
    """A card's line that is 必说 on a step counts as said only when ticked there; another line the
    run's steps show counts as said, as before."""
    lines = {title: PhrasingFactory(section=section, title=title) for title in ("报工号", "告知录音", "寒暄")}
    card = ScenarioCard.objects.create(
        procedure=must_say_procedure,
        title="练习必说",
        persona="客户",
        facts="无",
        expected_outcome="已解决",
        golden_path=["greet", "handle", "done"],
    )
    card.must_say.set(lines.values())
    run = start_practice(card, newhire)
    run = apply_move(run.pk, newhire, step="greet", seq=run.next_seq, action="next", said=["报工号"])
    run = apply_move(run.pk, newhire, step="handle", seq=run.next_seq, action="answer", answer=0)
    assert sorted(said_lines(run, lines.values())) == sorted([lines["报工号"].pk, lines["寒暄"].pk])
