"""clean_text(): what may be stored, without Django."""

from zhtext import clean_text


def test_unsafe_characters_become_single_spaces_on_one_line():
    assert clean_text("A\x0bB\x00C\ufffeD\U0010ffff") == "A B C D"
    assert clean_text("  工单\t123\r\n ") == "工单 123"
    assert clean_text(None) == "" and clean_text(42) == "42"


def test_multiline_text_keeps_its_lines_and_loses_the_rest():
    assert clean_text("第一行\r\n第二行\x07\r第三行", multiline=True) == "第一行\n第二行 \n第三行"


def test_ordinary_chinese_text_is_unchanged():
    text = "您好，王女士！订单 A-100 已补发（约 3 天到）。"
    assert clean_text(text) == text
