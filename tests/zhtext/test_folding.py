"""fold(): full-width, case and traditional → simplified folding that keeps every character's offset."""

import pytest

from zhtext import fold, folding


@pytest.fixture(autouse=True)
def _unfolded():
    """``fold`` is cached; tests that swap the converter must not see earlier results."""
    fold.cache_clear()
    yield
    fold.cache_clear()


def test_width_case_and_script_are_folded_in_place():
    text = "客戶投訴，ＥＭＳ寄回"
    assert fold(text) == "客户投诉,ems寄回"
    assert len(fold(text)) == len(text)


def test_conversion_that_changes_the_length_falls_back_to_plain_folding(monkeypatch):
    class Lengthening:
        def convert(self, text):
            return text.replace("訴", "诉诉")

    monkeypatch.setattr(folding, "_t2s", Lengthening())
    assert fold("投訴，投诉") == "投訴,投诉"  # NFKC only


def test_simplified_text_is_not_converted(monkeypatch):
    calls = []
    real = folding._t2s

    class Spy:
        def convert(self, text):
            calls.append(text)
            return real.convert(text)

    monkeypatch.setattr(folding, "_t2s", Spy())
    monkeypatch.setattr(folding, "_checked", set())
    text = "客户投诉：先致歉，再核实订单，EMS 寄回后原路退款。" * 20
    assert fold(text).startswith("客户投诉:先致歉,再核实订单,ems 寄回后原路退款。")
    assert calls and all(len(call) == 1 for call in calls)  # the per-character check, never the text
