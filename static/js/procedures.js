// Guided procedure runs: number keys press the answer buttons, and a live elapsed-time clock.
// Everything works without this file; it only adds the keyboard and the clock.

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  const active = document.activeElement;
  const typing =
    active &&
    (active.isContentEditable ||
      ["TEXTAREA", "SELECT"].includes(active.tagName) ||
      (active.tagName === "INPUT" && !["checkbox", "radio", "submit", "button"].includes(active.type)));
  if (typing) return;
  const target = document.querySelector(`[data-key="${CSS.escape(event.key)}"]`);
  if (!target) return;
  event.preventDefault();
  if (target.tagName === "BUTTON" && target.form && !target.hasAttribute("formnovalidate")) {
    // Let the browser show which checklist item or field is missing, as a click would.
    target.form.requestSubmit(target);
  } else {
    target.click();
  }
});

// Stop a second submission while the first is on its way (the server also rejects it).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.submitting) {
    event.preventDefault();
    return;
  }
  form.dataset.submitting = "1";
});
window.addEventListener("pageshow", () => {
  document.querySelectorAll("form[data-submitting]").forEach((form) => delete form.dataset.submitting);
});

class ElapsedTime extends HTMLElement {
  connectedCallback() {
    const since = Number(this.dataset.since); // Unix seconds from the server
    if (!since) return;
    this.since = since * 1000;
    this.tick();
    this.timer = setInterval(() => this.tick(), 1000);
  }

  disconnectedCallback() {
    clearInterval(this.timer);
  }

  tick() {
    const seconds = Math.max(0, Math.floor((Date.now() - this.since) / 1000));
    const minutes = Math.floor(seconds / 60);
    this.textContent = `${minutes}:${String(seconds % 60).padStart(2, "0")}`;
  }
}
customElements.define("elapsed-time", ElapsedTime);
