// Callbook front-end behaviour: small custom elements, no framework, no build step.

// Text of a phrasing for the clipboard: filled values as shown, gaps as what the agent typed
// (or 【name】 when still empty), never raw braces.
function phrasingPlainText(source) {
  let text = "";
  source.childNodes.forEach((node) => {
    if (node.nodeType === Node.TEXT_NODE) text += node.textContent;
    else if (node.matches && node.matches("input.ph-gap")) text += node.value.trim() || `【${node.dataset.ph}】`;
    else if (node.nodeName === "BR") text += "\n";
    else text += node.textContent;
  });
  return text;
}

async function writeClipboard(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Closed call-centre networks often serve plain http: fall back to a hidden textarea.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

class CopyButton extends HTMLElement {
  connectedCallback() {
    this.addEventListener("click", () => this.copy());
    this.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        this.copy();
      }
    });
  }

  source() {
    const target = this.dataset.target && document.querySelector(this.dataset.target);
    return target || this.closest("[data-phrasing]")?.querySelector("[data-copy-source]");
  }

  async copy() {
    const source = this.source();
    if (!source) return;
    const text = source.tagName === "TEXTAREA" ? source.value : phrasingPlainText(source);
    this.dataset.copied = text;
    try {
      await writeClipboard(text);
      this.textContent = this.dataset.done || "已复制";
      this.classList.add("is-done");
      setTimeout(() => {
        this.textContent = this.dataset.label || "复制";
        this.classList.remove("is-done");
      }, 1500);
    } catch (error) {
      this.textContent = "复制失败，请手动选择";
    }
  }
}
customElements.define("copy-button", CopyButton);

// "/" focuses the header search box, as in most knowledge tools.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const active = document.activeElement;
  if (active && (active.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName))) return;
  const box = document.getElementById("site-search");
  if (box) {
    event.preventDefault();
    box.focus();
    box.select();
  }
});

// A value typed into one gap (e.g. 客户称呼) fills every gap of that name on the page,
// so the agent types the customer's name once per call.
document.addEventListener("input", (event) => {
  const gap = event.target;
  if (!gap.matches || !gap.matches("input.ph-gap")) return;
  document.querySelectorAll("input.ph-gap").forEach((other) => {
    if (other !== gap && other.dataset.ph === gap.dataset.ph) other.value = gap.value;
  });
});
