import pytest

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


@pytest.mark.django_db
def test_a_phrasing_read_outside_a_run_speaks_the_readers_own_number_and_company(
    client, agent, other_agent, section
):
    """On a section page (and wherever a phrasing is read outside a run) {工号} and {公司名称} are the
    reader's own, as in a run; {客户称呼} stays a gap to fill."""
    from wagtail.models import Site

    from kb_site.content.profiles import AgentProfile, CompanySettings
    from tests.factories import PhrasingFactory, publish

    publish(PhrasingFactory(section=section, text="您好{客户称呼}，{公司名称}，我是{工号}号客服。"))
    AgentProfile.objects.create(user=agent, employee_number="1001")
    CompanySettings.objects.create(site=Site.objects.get(is_default_site=True), company_name="示范服务中心")

    client.force_login(agent)
    html = client.get(section.url).content.decode()
    assert '<span class="ph ph-filled" data-ph="工号">1001</span>' in html
    assert '<span class="ph ph-filled" data-ph="公司名称">示范服务中心</span>' in html
    assert 'data-ph="客户称呼" placeholder="客户称呼"' in html

    client.force_login(other_agent)  # no 工号 of their own: a gap, never another agent's number
    html = client.get(section.url).content.decode()
    assert "1001" not in html
    assert 'data-ph="工号" placeholder="工号"' in html
