"""Pinyin keys for suggestions (zhtext.pinyin): plain unit tests, no database."""

from zhtext import PinyinLexicon, full_pinyin, has_cjk, initials, looks_like_pinyin, pinyin_keys
from zhtext.pinyin import MAX_LETTERS, MAX_RUN, fuzzy_syllable, readings


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


VOCABULARY = {
    "投诉": 10,
    "处理": 8,
    "退款": 7,
    "少货": 3,
    "天数": 2,
    "快递": 5,
    "受理": 3,
    "响应": 3,
    "八次": 1,
}


def lexicon():
    return PinyinLexicon(VOCABULARY)


def test_letters_read_as_full_pinyin_initials_and_run_together_words():
    read = lexicon().read_letters
    assert read("tousu") == ["投诉"] and read("tuikuan") == ["退款"] and read("shaohuo") == ["少货"]
    assert read("tousuchuli") == ["投诉", "处理"]
    assert read("ts") == ["投诉"]  # 投诉 is more frequent than 天数
    assert read("tk") == ["退款"] and read("tscl") == ["投诉", "处理"]
    assert read("tuikuanzenmeban") == ["退款"]  # function words are read and dropped
    assert read("tousule") == ["投诉"]


def test_letters_that_are_not_pinyin_of_the_vocabulary_are_not_read():
    read = lexicon().read_letters
    for letters in ("xyzabc", "app", "vip", "hello", "made", "asdf", "tousucl", "t", "le", "zenmeban"):
        assert read(letters) is None, letters


def test_long_letter_strings_are_not_read_and_stay_cheap():
    read = lexicon().read_letters
    assert read("tousu" * (MAX_LETTERS // 5)) == ["投诉"] * (MAX_LETTERS // 5)
    assert read("tousu" * 1000) is None
    assert read("a" * 100_000) is None


def test_homophone_typos_are_read_as_vocabulary_words():
    homophones = lexicon().homophones
    known = VOCABULARY.__contains__
    assert homophones("投诉处里", known) == [(2, 4, "处理")]
    assert homophones("少货出理", known) == [(2, 4, "处理")]
    assert homophones("退宽", known) == [(0, 2, "退款")]
    assert homophones("头诉", known) == [(0, 2, "投诉")]
    assert homophones("快地丢了", known) == [(0, 2, "快递")]
    assert homophones("受里", known) == [(0, 2, "受理")]


def test_known_words_and_unrelated_text_are_kept():
    homophones = lexicon().homophones
    known = VOCABULARY.__contains__
    for text in ("投诉处理", "退款", "付了款三天还不发货", "还不", "EMS", ""):
        assert homophones(text, known) == [], text
    assert len(homophones("投诉处里" * 10_000, known)) <= MAX_RUN
    assert len(homophones("头诉 " * 10_000, known)) <= MAX_RUN


def test_readings_and_fuzzy_syllables():
    assert readings("还")[:2] == ("hai", "huan") and readings("a") == ()
    assert fuzzy_syllable("shi") == fuzzy_syllable("si") == "si"
    assert fuzzy_syllable("neng") == fuzzy_syllable("len") == "len"


def test_title_characters_complete_a_reading_and_title_neighbours_win():
    words = {"接待": 2, "阶梯": 1, "电价": 1, "接听": 5, "登记": 5}
    chars = {"忙": 1, "时": 1}
    lexicon = PinyinLexicon(words, chars, pairs={("阶梯", "电价"), ("时", "接待")})
    assert lexicon.read_letters("mangshijiedai") == ["忙", "时", "接待"]
    assert lexicon.read_letters("mangshi") is None  # characters alone are not a reading
    assert lexicon.read_letters("jtdj") == ["阶梯", "电价"]  # next to each other in a title
    assert PinyinLexicon(words, chars).read_letters("jtdj") == ["接听", "登记"]  # else the most frequent
