/* The page editor opened at a procedure step: /admin/pages/<id>/edit/#step-<key> (the 内容健康 page links
 * there) shows the tab holding the steps, expands the step block whose key input holds <key> (and any
 * collapsed block around it) and scrolls to it. The steps are rendered by Wagtail's StreamField script
 * after the page loads, so the input is looked for again for a few seconds. */
(() => {
  "use strict";

  const PREFIX = "#step-";

  function wantedKey() {
    if (!location.hash.startsWith(PREFIX)) return "";
    try {
      return decodeURIComponent(location.hash.slice(PREFIX.length));
    } catch {
      return "";
    }
  }

  function keyInput(key) {
    const inputs = document.querySelectorAll("callbook-step-key input, [data-streamfield-child] input[name$='-key']");
    return Array.from(inputs).find((input) => input.value === key);
  }

  function expand(block) {
    const toggle = block.querySelector("[data-panel-toggle]");
    if (toggle && toggle.getAttribute("aria-expanded") === "false") toggle.click();
  }

  function open(key, tries) {
    const input = keyInput(key);
    if (!input) {
      if (tries > 0) setTimeout(() => open(key, tries - 1), 100);
      return;
    }
    const block = input.closest("[data-streamfield-child]");
    if (!block) return;
    const tab = block.closest("[role='tabpanel']");
    if (tab && tab.hidden) {
      const tabLink = document.querySelector(`[role='tab'][aria-controls='${tab.id}']`);
      if (tabLink) tabLink.click();
    }
    for (let node = block; node; node = node.parentElement && node.parentElement.closest("[data-streamfield-child]")) {
      expand(node);
    }
    reveal(block, 12);
    block.classList.add("cb-flow-opened");
    setTimeout(() => block.classList.remove("cb-flow-opened"), 3000);
  }

  /* Scroll to the block at once (the admin scrolls smoothly, which a growing page outruns), and again while
   * the blocks above it are still being rendered, unless the user has started scrolling. */
  let userMoved = false;
  ["wheel", "keydown", "touchstart", "mousedown"].forEach((type) =>
    window.addEventListener(type, () => (userMoved = true), { once: true, passive: true }),
  );

  function reveal(block, tries) {
    if (userMoved) return;
    block.scrollIntoView({ block: "start", behavior: "instant" });
    if (tries > 0) setTimeout(() => reveal(block, tries - 1), 250);
  }

  function start() {
    const key = wantedKey();
    if (key) open(key, 50);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  window.addEventListener("hashchange", start);
})();
