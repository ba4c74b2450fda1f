// Follow-up queues by keyboard, like the runner: j / k or ↓ / ↑ move between rows, Enter opens the row,
// x ticks it for reassigning. Everything works without this file.

class FollowupQueue extends HTMLElement {
  connectedCallback() {
    this.index = -1;
    this.onKey = (event) => this.key(event);
    document.addEventListener("keydown", this.onKey);
  }

  disconnectedCallback() {
    document.removeEventListener("keydown", this.onKey);
  }

  get rows() {
    return [...this.querySelectorAll("tr[data-href]")];
  }

  key(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    const active = document.activeElement;
    if (active && (active.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(active.tagName))) {
      if (!(active.type === "checkbox" && this.contains(active))) return;
    }
    const rows = this.rows;
    if (!rows.length) return;
    if (["j", "ArrowDown"].includes(event.key)) this.move(rows, 1, event);
    else if (["k", "ArrowUp"].includes(event.key)) this.move(rows, -1, event);
    else if (event.key === "Enter" && rows[this.index]) {
      event.preventDefault();
      window.location.href = rows[this.index].dataset.href;
    } else if (event.key === "x" && rows[this.index]) {
      const box = rows[this.index].querySelector("input[type=checkbox]:not(:disabled)");
      if (box) {
        event.preventDefault();
        box.checked = !box.checked;
      }
    }
  }

  move(rows, step, event) {
    event.preventDefault();
    rows[this.index]?.classList.remove("is-current");
    rows[this.index]?.removeAttribute("aria-selected");
    this.index = Math.min(rows.length - 1, Math.max(0, this.index + step));
    const row = rows[this.index];
    row.classList.add("is-current");
    row.setAttribute("aria-selected", "true");
    (row.querySelector("a") || row).focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }
}
customElements.define("followup-queue", FollowupQueue);

// Stop a second submission of a follow-up form while the first is on its way (the server refuses it too).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.closest(".page-followup, .page-followups")) return;
  if (form.dataset.submitting) {
    event.preventDefault();
    return;
  }
  form.dataset.submitting = "1";
});
window.addEventListener("pageshow", () => {
  document.querySelectorAll("form[data-submitting]").forEach((form) => delete form.dataset.submitting);
});
