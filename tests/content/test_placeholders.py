from kb_site.content import placeholders


def test_names_in_order_without_duplicates():
    text = "您好{客户称呼}，我是{工号}号。{客户称呼}请稍等{天数}天"
    assert placeholders.placeholder_names(text) == ["客户称呼", "工号", "天数"]


def test_fill_text_uses_values_and_marks_missing_without_braces():
    text = "您好{客户称呼}，我是{工号}号客服"
    assert placeholders.fill_text(text, {"客户称呼": "王女士"}) == "您好王女士，我是【工号】号客服"


def test_render_html_fills_and_leaves_fillable_gap():
    html = placeholders.render_html("您好{客户称呼}，我是{工号}号", {"客户称呼": "王女士"})
    assert '<span class="ph ph-filled" data-ph="客户称呼">王女士</span>' in html
    assert '<input class="ph ph-gap" data-ph="工号" placeholder="工号"' in html
    assert "{" not in html and "}" not in html


def test_render_html_escapes_text_and_values():
    html = placeholders.render_html("<b>注意</b>{客户称呼}", {"客户称呼": "<script>x</script>"})
    assert "<b>" not in html and "<script>" not in html
    assert "&lt;b&gt;注意&lt;/b&gt;" in html
    assert "&lt;script&gt;" in html


def test_render_html_keeps_line_breaks():
    assert placeholders.render_html("第一行\n第二行") == "第一行<br>第二行"


def test_braces_that_are_not_placeholders_stay_as_text():
    assert placeholders.placeholder_names("价格 {a b} 和 {}") == []
    assert placeholders.fill_text("{a b}") == "{a b}"
