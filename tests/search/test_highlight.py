"""Highlighting: tokens of the query marked, everything else escaped; snippets around the first hit."""

import pytest

from search.highlight import highlight, query_terms, snippet
from zhtext import fold, folding


@pytest.fixture(autouse=True)
def _unfolded():
    """``fold`` is cached; tests that swap the converter must not see earlier results."""
    fold.cache_clear()
    yield
    fold.cache_clear()


def test_query_terms_are_analyzed_and_longest_first():
    terms = query_terms("原路退款 EMS")
    assert "原路退款" in terms and "退款" in terms and "ems" in terms
    assert terms.index("原路退款") < terms.index("退款")


def test_marks_hits_and_escapes_the_rest():
    html = str(highlight("<b>客户投诉</b> & 退款", query_terms("投诉")))
    assert html == "&lt;b&gt;客户<mark>投诉</mark>&lt;/b&gt; &amp; 退款"


def test_full_width_and_case_are_folded_but_shown_as_written():
    html = str(highlight("请使用ＥＭＳ或ems寄回", query_terms("EMS")))
    assert html == "请使用<mark>ＥＭＳ</mark>或<mark>ems</mark>寄回"


def test_longer_word_wins_over_its_subword():
    html = str(highlight("支持原路退款", query_terms("原路退款")))
    assert html == "支持<mark>原路退款</mark>"


def test_snippet_is_a_window_around_the_first_hit():
    text = "开头的说明。" * 40 + "重大投诉三天内办结。" + "结尾。" * 40
    html = str(snippet(text, query_terms("投诉"), length=40))
    assert html.startswith("…") and html.endswith("…")
    assert "<mark>投诉</mark>" in html
    assert len(html.replace("<mark>", "").replace("</mark>", "")) <= 42


def test_snippet_without_hit_shows_the_start():
    assert str(snippet("第一句。第二句。", query_terms("投诉"), length=4)) == "第一句。…"
    assert str(snippet("", query_terms("投诉"))) == ""


def test_traditional_title_is_marked_as_written():
    html = str(highlight("客戶投訴與退貨處理", query_terms("投诉 退货")))
    assert html == "客戶<mark>投訴</mark>與<mark>退貨</mark>處理"


def test_traditional_snippet_is_a_window_around_the_first_hit():
    text = "開頭的說明。" * 40 + "重大投訴三天內辦結。" + "結尾。" * 40
    html = str(snippet(text, query_terms("投诉"), length=40))
    assert html.startswith("…") and html.endswith("…")
    assert "<mark>投訴</mark>" in html and "投诉" not in html and "开头" not in html
    assert len(html.replace("<mark>", "").replace("</mark>", "")) <= 42


def test_mixed_text_marks_both_scripts_and_folds_width_too():
    html = str(highlight("客户投訴，投诉已退貨；ＥＭＳ寄回", query_terms("投诉 退货 EMS")))
    assert html == "客户<mark>投訴</mark>，<mark>投诉</mark>已<mark>退貨</mark>；<mark>ＥＭＳ</mark>寄回"


def test_conversion_that_changes_the_length_falls_back_to_plain_folding(monkeypatch):
    class Lengthening:
        def convert(self, text):
            return text.replace("訴", "诉诉")

    monkeypatch.setattr(folding, "_t2s", Lengthening())
    html = str(highlight("客戶投訴，投诉", query_terms("投诉")))
    assert html == "客戶投訴，<mark>投诉</mark>"
