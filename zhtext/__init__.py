"""Chinese text handling: normalisation, segmentation and pinyin. Plain Python (no Django, no Whoosh).

The same pipeline runs at index and query time, and for highlighting:

* ``zhtext.folding``: ``normalize`` (NFKC full-width → half-width, traditional → simplified with OpenCC
  ``t2s``, lowercase) and ``fold`` (the same, keeping character offsets);
* ``zhtext.segment``: rjieba segmentation with a user dictionary of customer-service terms
  (``USER_WORDS``): ``tokenize``, ``analyze``, ``query_words``, ``has_cjk``;
* ``zhtext.function_words``: ``FUNCTION_WORDS`` (了, 的, 请问, 好的…), ``content_words``,
  ``strip_function_words``: what queries drop (never the index);
* ``zhtext.cleaning``: ``clean_text`` (no control characters or noncharacters in stored text);
* ``zhtext.pinyin``: ``pinyin_keys``, ``full_pinyin``, ``initials``, ``looks_like_pinyin`` for typing
  pinyin into suggestions; ``PinyinLexicon`` for reading typed letters (tousu → 投诉) and homophone
  typos (投诉处里 → 投诉处理) against a vocabulary.

Whoosh analyzers built on this live in ``search.analysis``.
"""

from zhtext.cleaning import clean_text
from zhtext.folding import fold, normalize
from zhtext.function_words import FUNCTION_WORDS, content_words, is_function_word, strip_function_words
from zhtext.pinyin import PinyinLexicon, full_pinyin, initials, looks_like_pinyin, pinyin_keys
from zhtext.segment import USER_WORDS, Tok, analyze, has_cjk, query_words, tokenize

__all__ = [
    "FUNCTION_WORDS",
    "PinyinLexicon",
    "USER_WORDS",
    "Tok",
    "analyze",
    "clean_text",
    "content_words",
    "fold",
    "full_pinyin",
    "has_cjk",
    "initials",
    "is_function_word",
    "looks_like_pinyin",
    "normalize",
    "pinyin_keys",
    "query_words",
    "strip_function_words",
    "tokenize",
]
