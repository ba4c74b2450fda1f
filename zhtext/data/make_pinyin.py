"""Write ``pinyin_chars.txt`` and ``pinyin_phrases.txt`` (beside this file) from pypinyin's tables.

Run after upgrading pypinyin: ``.venv/bin/python zhtext/data/make_pinyin.py``; commit the two files.
``zhtext.pinyin`` reads them instead of importing pypinyin, whose phrase table alone costs each
process about 42 MB (tests/zhtext/test_pinyin_table.py checks the readings are pypinyin's):

* ``pinyin_chars.txt``: a character with pinyin, then its toneless readings, the usual first (at
  most three: what ``zhtext.pinyin.readings`` gives; the first is what ``lazy_pinyin`` reads);
* ``pinyin_phrases.txt``: every phrase of pypinyin's phrase table (``lazy_pinyin`` segments a run of
  Chinese characters by forward maximum matching over them), followed by its toneless reading when
  that is not its characters' usual readings (长城 is ``chang cheng``, not ``zhang cheng``).
"""

import os
from pathlib import Path

from pypinyin import Style, lazy_pinyin, pinyin
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT, RE_HANS

HERE = Path(__file__).resolve().parent


def char_readings(char):
    found = pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")
    return tuple(dict.fromkeys(r.lower() for r in (found[0] if found else ()) if r.isalpha()))[:3]


def main():
    assert not os.environ.get("PYPINYIN_NO_PHRASES"), "pypinyin's phrase table is needed"
    chars = {}
    for code in sorted(PINYIN_DICT):
        char = chr(code)
        found = char_readings(char)
        # What zhtext.pinyin relies on: one toneless reading per character, of letters only, the same
        # as lazy_pinyin's (whose initial is its first letter).
        assert RE_HANS.match(char) and found and found[0] == lazy_pinyin(char)[0], char
        assert lazy_pinyin(char, style=Style.FIRST_LETTER) == [found[0][0]], char
        chars[char] = found
    lines = [f"{char} {' '.join(found)}\n" for char, found in chars.items()]
    (HERE / "pinyin_chars.txt").write_text("".join(lines), encoding="utf-8")
    lines = []
    for phrase in sorted(PHRASES_DICT):
        assert len(phrase) > 1 and RE_HANS.match(phrase), phrase
        read = lazy_pinyin(phrase)
        assert len(read) == len(phrase) and all(s.isascii() and s.isalpha() for s in read), phrase
        usual = [chars[char][0] for char in phrase]
        lines.append(f"{phrase}\n" if read == usual else f"{phrase} {' '.join(read)}\n")
    (HERE / "pinyin_phrases.txt").write_text("".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
