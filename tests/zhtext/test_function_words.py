"""Function words (zhtext.function_words): what queries drop, what they keep. Plain unit tests."""

import pytest

from zhtext import content_words, is_function_word, strip_function_words


@pytest.mark.parametrize(
    "query", ["了", "的", "请问", "好的好的", "吗", "我想", "怎么办", "您好，请问！", "谢谢 好的"]
)
def test_a_query_of_only_function_words_has_no_content(query):
    assert content_words(query) == []
    assert strip_function_words(query) == ""


@pytest.mark.parametrize(
    ("query", "content", "searched"),
    [
        ("包裹丢了", ["包裹", "丢"], "包裹丢"),
        ("可以退款吗", ["退款"], "退款"),
        ("我想问一下怎么退款", ["退款"], "退款"),
        ("客户很生气", ["客户", "生气"], "客户 生气"),
        # Latin noise keeps its words apart from the Chinese ones
        ("xyzabc的存在", ["xyzabc", "存在"], "xyzabc 存在"),
        # words a function word separated are searched apart, neighbours stay together
        ("付了款三天还不发货", ["付", "款", "三天", "发货"], "付 款三天 不发货"),
    ],
)
def test_function_words_are_dropped_from_a_query_with_content(query, content, searched):
    assert content_words(query) == content
    assert strip_function_words(query) == searched


def test_a_negation_stays_with_the_word_it_negates_but_is_no_term_of_its_own():
    assert strip_function_words("不发货") == "不发货"
    assert strip_function_words("没有收到") == "没有收到"
    assert strip_function_words("xyzabc不存在") == "xyzabc不存在"
    assert content_words("不发货") == ["发货"]
    assert content_words("xyzabc不存在") == ["xyzabc", "存在"]
    assert strip_function_words("好的不") == ""


def test_words_that_contain_a_function_word_are_kept():
    for word in ["不满意", "没收到货", "好评", "有人被困", "要求赔偿", "了解"]:
        assert content_words(word), word
    assert not is_function_word("了解")
    assert is_function_word("了")
    # a query without function words is searched exactly as typed
    assert strip_function_words("iPhone-15") == "iPhone-15"
    assert strip_function_words("客户投诉处理") == "客户投诉处理"
