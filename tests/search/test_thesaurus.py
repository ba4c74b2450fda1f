"""The general synonym dictionary (search.thesaurus): cnsyn's word list read without importing cnsyn,
kept compact, looked up by any word of a group."""

import sys

from search.thesaurus import Thesaurus, dictionary_path, thesaurus


def test_groups_are_found_by_any_of_their_words():
    words = Thesaurus(["道歉 致歉 赔罪 赔礼", "遗失 丢失 丢 少 掉 不见", "Nature 自然 大自然", "一 二"])
    assert words.related("道歉") == ["致歉", "赔罪", "赔礼"]
    assert words.related("赔罪") == ["道歉", "致歉", "赔礼"]
    # single characters and Latin words are left out, so is a group left with fewer than two words
    assert words.related("丢失") == ["遗失", "不见"]
    assert words.related("丢") == [] and words.related("Nature") == [] and words.related("一") == []
    assert words.related("自然") == ["大自然"]
    assert words.related("快递") == [] and words.related("") == []
    assert len(words) == 3


def test_long_lines_are_categories_not_synonyms():
    category = "停电 停工 停学 停刊 停车 停航 停办 停产 停课 停水 熄灯 停业 停运"
    assert Thesaurus([category, "电梯 升降机"]).related("停电") == []


def test_the_installed_word_list_is_read_without_importing_cnsyn():
    assert dictionary_path() is not None  # requirements-nodeps.txt installs cnsyn
    words = thesaurus()
    assert "cnsyn" not in sys.modules  # importing it would load an 83 MB model
    assert 10_000 < len(words) < 20_000
    assert "致歉" in words.related("道歉") and "丢失" in words.related("遗失")
    assert words.hashes.nbytes + words.groups.nbytes + words.offsets.nbytes < 2_000_000
