"""fold(): full-width, case and traditional → simplified folding that keeps every character's offset."""

import pytest

from zhtext import fold, folding, normalize


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


def test_words_whose_characters_t2s_keeps_alone_fold_as_words():
    # 回, 覆, 瞭 and 著 are simplified characters too: only the word says they are traditional here.
    assert normalize("回覆客戶") == "回复客户"
    assert normalize("請儘快批覆") == "请尽快批复"
    assert normalize("瞭解一下") == "了解一下"
    assert normalize("接著處理") == "接着处理" and normalize("著急") == "着急"
    assert normalize("著名品牌") == "著名品牌" and normalize("显著") == "显著"
    for text in ("回覆客户", "请回覆", "接著处理", "覆核时限", "客户投诉"):
        assert len(fold(text)) == len(text)
    assert fold("请回覆") == "请回复"
    assert fold("接著处理，著名品牌") == "接着处理,著名品牌"
    assert fold("覆核时限") == "复核时限"


def test_plain_simplified_text_with_those_characters_is_unchanged():
    text = "覆盖范围：颠覆性的回复，著作权归原作者，沈阳仓库。"
    assert normalize(text) == text.replace("：", ":").replace("，", ",")
    assert fold(text) == text.replace("：", ":").replace("，", ",")
