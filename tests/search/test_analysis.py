"""The Whoosh analyzers of search.analysis (no database)."""

from search.analysis import (
    ANALYZER_VERSION,
    AutocompleteAnalyzer,
    ChineseAnalyzer,
    ShingleAnalyzer,
    shingle,
)


def test_whoosh_analyzer_positions_and_query_mode():
    index_tokens = [(t.text, t.pos) for t in ChineseAnalyzer()("退换货政策", positions=True)]
    assert ("退换货", 0) in index_tokens
    assert ("换货", 0) in index_tokens
    assert ("政策", 1) in index_tokens
    query_tokens = [t.text for t in ChineseAnalyzer()("退换货政策", mode="query")]
    assert query_tokens == ["退换货", "政策"]


def test_autocomplete_analyzer_emits_edge_ngrams():
    grams = {t.text for t in AutocompleteAnalyzer()("客户投诉 complaint")}
    assert {"客", "客户", "投", "投诉", "c", "comp", "complaint"} <= grams


def test_analyzer_version_is_short_and_stable():
    assert ANALYZER_VERSION.isalnum()
    assert len(ANALYZER_VERSION) <= 16


def test_shingle_analyzer_pairs_adjacent_words_including_subwords():
    terms = {t.text for t in ShingleAnalyzer()("请按原路退款处理")}
    assert shingle("原路退款", "处理") in terms
    assert shingle("退款", "处理") in terms  # the sub-word ending where its word ends
    assert shingle("按", "原路退款") in terms
    assert not any("_" in t.text for t in ShingleAnalyzer()("请按原路退款处理", mode="query"))
