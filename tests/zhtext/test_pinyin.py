"""Pinyin keys for suggestions (zhtext.pinyin): plain unit tests, no database."""

from zhtext import full_pinyin, has_cjk, initials, looks_like_pinyin, pinyin_keys


def test_pinyin_keys_cover_words_and_whole_title():
    keys = pinyin_keys("投诉处理流程").split()
    assert {"tousu", "ts", "chuli", "cl", "tousuchuliliucheng", "tscllc"} <= set(keys)
    assert full_pinyin("退款") == "tuikuan"
    assert initials("退款") == "tk"
    assert pinyin_keys("EMS only") == ""
    assert looks_like_pinyin("tou su") and not looks_like_pinyin("投诉") and not looks_like_pinyin("a1")


def test_has_cjk():
    assert has_cjk("EMS 投诉") and has_cjk("投訴")
    assert not has_cjk("EMS 95598") and not has_cjk("") and not has_cjk(None)
