"""Segmentation and normalisation (zhtext.segment, zhtext.folding): plain unit tests, no database."""

import pytest

from zhtext import analyze, normalize, query_words, tokenize


def test_complaint_query_tokens_are_in_the_title_tokens():
    title_tokens = analyze("客户投诉处理流程")
    assert query_words("投诉") == ["投诉"]
    assert "投诉" in title_tokens
    assert query_words("客户投诉") == ["客户", "投诉"]
    assert title_tokens[:2] == ["客户", "投诉"]


def test_subword_of_longer_word_is_indexed_at_same_position():
    toks = tokenize("请提供快递单号")
    by_text = {t.text: t for t in toks}
    assert "快递" in by_text
    assert by_text["快递"].sub
    main = [t for t in toks if not t.sub and t.text.startswith("快递")]
    assert main and by_text["快递"].pos == main[0].pos
    assert "快递" in analyze("快递单")


def test_positions_are_ordinal_and_skip_punctuation():
    toks = [t for t in tokenize("客户，投诉！处理 流程") if not t.sub]
    assert [(t.text, t.pos) for t in toks] == [("客户", 0), ("投诉", 1), ("处理", 2), ("流程", 3)]


def test_refund_to_original_route_kept_as_word_with_subwords():
    tokens = analyze("我们将按原路退款")
    assert "原路退款" in tokens
    assert "退款" in tokens


def test_traditional_folds_to_simplified():
    assert analyze("投訴") == ["投诉"]
    assert normalize("客戶滿意度調查") == "客户满意度调查"


def test_full_width_folds_to_half_width_and_lowercase():
    assert analyze("ＥＭＳ ９５５９８") == ["ems", "95598"]
    assert normalize("Ａ－１０２４") == "a-1024"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("EMS", ["ems"]),
        ("95598", ["95598"]),
        ("拨打11183查询", ["拨打", "11183", "查询"]),
        ("iPhone-15", ["iphone", "15"]),
        ("A-1024", ["a", "1024"]),
    ],
)
def test_latin_and_numbers(text, expected):
    assert analyze(text) == expected


@pytest.mark.parametrize(
    "text",
    ['"unbalanced', "a AND OR NOT b", "*", "~", "title:foo", "x" * 10_000, "\x00\x07\x1b", "😀🙏", "   ", ""],
)
def test_hostile_input_never_raises(text):
    tokens = analyze(text)
    assert all(tokens)
    assert all(ch.isalnum() for tok in tokens for ch in tok)


def test_multiline_text_keeps_positions_and_offsets():
    text = "客户投诉\n\n处理流程"
    toks = tokenize(text)
    assert [(t.text, t.pos) for t in toks if not t.sub] == [
        ("客户", 0),
        ("投诉", 1),
        ("处理", 2),
        ("流程", 3),
    ]
    norm = normalize(text)
    assert all(norm[t.start : t.end] == t.text for t in toks)


def test_segmentation_uses_rjiebas_own_dictionary_not_a_second_copy():
    """Importing rjieba builds its default segmenter (~30 MB); segmenting adds the user words to that one
    instead of building another (which cost every worker ~27 MB more). Measured in a fresh process."""
    import subprocess
    import sys
    from pathlib import Path

    script = """
import rjieba, zhtext
def anon_mb():
    for line in open('/proc/self/status'):
        if line.startswith('RssAnon'):
            return int(line.split()[1]) / 1024
before = anon_mb()
words = zhtext.query_words('客户来电说少货了要求补发')
print(anon_mb() - before, rjieba.has_word('少货'), ' '.join(words))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    grown, user_word_added, words = done.stdout.split(maxsplit=2)
    assert float(grown) < 10, f"first segmentation grew the process by {grown} MB"
    assert user_word_added == "True"
    assert "少货" in words.split()
