"""A trainer's moves in the procedure editor's flow tools, in Chromium through Playwright.

Reused by end-to-end tests: build a procedure by picking targets and "＋ 新建步骤…" (no key typed), read the
flow map, open a step from it, submit the page for review and approve it.

Step fields are found by Wagtail's form names: blocks are numbered in the order they were added
(``steps-0`` is the first step added, ``steps-1`` the next, whether added by the inserter or the picker), and
list items within a block the same way (``steps-1-value-answers-0``).
"""

from playwright.sync_api import expect

from tests.factories import PASSWORD


def admin_page(browser, live_server_url, user, password=PASSWORD):
    """A new page of a fresh browser context, logged into the admin as ``user``, at a 1366 px wide screen."""
    page = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}).new_page()
    page.goto(f"{live_server_url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.press("#id_password", "Enter")
    return page


def start_new_procedure(page, live_server_url, section, title, when_to_use):
    page.goto(f"{live_server_url}/admin/pages/add/procedures/procedurepage/{section.pk}/")
    page.fill("#id_title", title)
    page.fill("#id_when_to_use", when_to_use)


def add_first_step(page, kind_label, title):
    """The first step, from the steps field's own inserter (later steps come from pickers)."""
    page.locator("#steps-root button.c-sf-add-button").first.click()
    page.get_by_role("option", name=kind_label).first.click()
    page.fill('input[name="steps-0-value-title"]', title)


def step_blocks(page):
    """The steps field's blocks in order (deleted ones, which Wagtail only hides, left out)."""
    return page.locator(
        "#steps-root [data-streamfield-stream-container] > [data-streamfield-child]:not([aria-hidden='true'])"
    )


def duplicate_step(page, index):
    step_blocks(page).nth(index).locator('[data-streamfield-action="DUPLICATE"]').first.click()


def delete_step(page, index):
    step_blocks(page).nth(index).locator('[data-streamfield-action="DELETE"]').first.click()


def block_key(page, index):
    """The key the ``index``-th step block holds (shown as a muted label, never typed)."""
    return step_blocks(page).nth(index).locator("callbook-step-key > input").first.input_value()


def picker(page, name):
    """The target picker whose hidden input is ``name``, e.g. ``steps-0-value-next``."""
    return page.locator(f'callbook-step-target:has(> input[name="{name}"])')


def picker_options(page, name):
    """The picker's options as shown: 请选择步骤, then each step as "kind · title", then ＋ 新建步骤…."""
    return picker(page, name).locator(".cb-step-target__select option")


def pick_target(page, name, label):
    """Point the picker ``name`` at the step shown as ``label`` (kind · title)."""
    picker(page, name).locator(".cb-step-target__select").select_option(label=label)


def create_step_from(page, name, title, kind_label):
    """ "＋ 新建步骤…" in the picker ``name``: a new step of that kind and title, which the picker then points to."""
    target = picker(page, name)
    target.locator(".cb-step-target__select").select_option(label="＋ 新建步骤…")
    creator = target.locator(".cb-step-target__new")
    expect(creator).to_be_visible()
    creator.locator(".cb-step-target__title").fill(title)
    creator.locator(".cb-step-target__kind").select_option(label=kind_label)
    creator.locator(".cb-step-target__create").click()
    expect(creator).to_be_hidden()


def target_of(page, name):
    """The key the picker ``name`` holds (what the form will save)."""
    return page.locator(f'input[name="{name}"]').input_value()


def key_of(page, prefix):
    return page.locator(f'input[name="{prefix}-value-key"]').input_value()


def add_list_item(page, prefix):
    """Append an item to the list block ``prefix`` (e.g. ``steps-1-value-answers``) with its last 新增 button."""
    container = page.locator(f'div:has(> input[name="{prefix}-count"]) > [data-streamfield-list-container]')
    container.locator("> [data-streamfield-list-add], > * > [data-streamfield-list-add]").last.click()


def flow_map(page):
    return page.locator("callbook-flow-map")


def expect_map_summary(page, text):
    expect(flow_map(page).locator(".cb-flow-map__summary")).to_have_text(text)


def map_step(page, title):
    """The box of the step titled ``title`` on the flow map."""
    return flow_map(page).locator(".cb-flow-step", has=page.locator(f'strong:text-is("{title}")'))


def expect_map_arrows(page, title, arrows):
    """The box of ``title`` lists exactly ``arrows``: ``[(label, target title), ...]`` (label "" for none)."""
    texts = [f"{label} → {target}" if label else f"→ {target}" for label, target in arrows]
    expect(map_step(page, title).locator(".cb-flow-arrow")).to_have_text(texts)


def open_from_map(page, title):
    """Click a step on the map: its block opens and scrolls into view with its title field focused."""
    map_step(page, title).locator(".cb-flow-step__open").click()


def submit_for_review(page):
    """A trainer cannot publish: 提交审核 sends the page to the 内容审核 workflow."""
    page.locator("footer .dropdown-toggle, footer [data-w-dropdown-target='toggle']").first.click()
    with page.expect_navigation():
        page.locator('footer button[name="action-submit"]').click()


def approve_and_publish(page, live_server_url, page_pk):
    """A supervisor's one-click 批准并发布 on the editor (kb_site.approvals)."""
    page.goto(f"{live_server_url}/admin/pages/{page_pk}/edit/")
    with page.expect_navigation():
        page.locator("footer button[data-workflow-action-name=approve]").first.click()
