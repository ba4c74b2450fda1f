// Search behaviour: suggestions under the header box, and keyboard navigation of the results page.
// Plain JavaScript, no framework, no build step.

// Header box: <search-suggest> wraps a combobox input and its listbox. htmx fetches the listbox's
// options from /search/suggest/ as the agent types (a server-rendered fragment); this element shows
// and hides the list and handles the keys: ↑ ↓ move through the suggestions, Enter opens the chosen
// one (or submits the search), Esc closes.
class SearchSuggest extends HTMLElement {
  connectedCallback() {
    this.input = this.querySelector("[role=combobox]");
    this.list = this.querySelector("[role=listbox]");
    if (!this.input || !this.list) return;
    this.active = -1;
    this.list.addEventListener("htmx:afterSwap", () => this.refresh());
    // A failed request (session expired, server down) leaves no stale suggestions open.
    this.input.addEventListener("htmx:responseError", () => this.clear());
    this.input.addEventListener("htmx:sendError", () => this.clear());
    // mousedown, not click: it fires before the input loses focus and closes the list.
    this.list.addEventListener("mousedown", (event) => {
      const option = event.target.closest("[role=option]");
      if (!option) return;
      event.preventDefault();
      window.location.href = option.dataset.url;
    });
    this.input.addEventListener("keydown", (event) => this.onKey(event));
    this.input.addEventListener("blur", () => setTimeout(() => this.close(), 100));
    this.input.addEventListener("focus", () => {
      if (this.options().length && this.input.value.trim()) this.open();
    });
  }

  clear() {
    this.list.replaceChildren();
    this.close();
  }

  options() {
    return Array.from(this.list.querySelectorAll("[role=option]"));
  }

  refresh() {
    this.options().forEach((option, index) => {
      option.id = `${this.list.id}-${index}`;
    });
    this.active = -1;
    this.input.removeAttribute("aria-activedescendant");
    if (this.options().length && this.input.value.trim()) this.open();
    else this.close();
  }

  open() {
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
  }

  close() {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.active = -1;
  }

  setActive(index) {
    const options = this.options();
    options.forEach((option, i) => option.setAttribute("aria-selected", i === index ? "true" : "false"));
    this.active = index;
    if (index >= 0 && options[index]) {
      this.input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  }

  onKey(event) {
    if (event.isComposing) return; // the IME is still choosing characters
    const count = this.options().length;
    if (event.key === "ArrowDown") {
      if (!count) return;
      event.preventDefault();
      if (this.list.hidden) this.open();
      this.setActive((this.active + 1) % count);
    } else if (event.key === "ArrowUp") {
      if (count && !this.list.hidden) {
        event.preventDefault();
        this.setActive(this.active <= 0 ? count - 1 : this.active - 1);
      }
    } else if (event.key === "Enter") {
      const chosen = this.options()[this.active];
      if (!this.list.hidden && chosen) {
        event.preventDefault();
        window.location.href = chosen.dataset.url;
      }
      // otherwise the form submits and opens the results page
    } else if (event.key === "Escape") {
      if (!this.list.hidden) {
        event.preventDefault();
        this.close();
      }
    }
  }
}
customElements.define("search-suggest", SearchSuggest);

// Results page: ↓ from the query box enters the results, ↑ ↓ move between hits, Enter opens one.
function setUpResultNavigation(container) {
  const links = () => Array.from(container.querySelectorAll("[data-hit] [data-hit-link]"));
  const queryBox = document.querySelector("[data-results-input]");

  function focusHit(index) {
    const all = links();
    if (!all.length) return;
    const target = all[Math.max(0, Math.min(index, all.length - 1))];
    target.focus();
    all.forEach((link) => link.closest("[data-hit]").classList.toggle("is-current", link === target));
  }

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.isComposing) return;
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const active = document.activeElement;
    const all = links();
    const index = all.indexOf(active);
    if (index >= 0) {
      event.preventDefault();
      if (event.key === "ArrowDown") focusHit(index + 1);
      else if (index === 0 && queryBox) queryBox.focus();
      else focusHit(index - 1);
      return;
    }
    const typing = active && (active.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName));
    if (active === queryBox && event.key === "ArrowDown") {
      event.preventDefault();
      focusHit(0);
    } else if (!typing && event.key === "ArrowDown") {
      event.preventDefault();
      focusHit(0);
    }
  });
}

// Search results link to "#step-<key>" of a procedure (the flow overview's cards carry those ids) and
// "#phrasing-<id>" on a section page. A phrasing no longer on the page lands on the section's phrasing
// list instead.
function followSearchAnchor() {
  const hash = decodeURIComponent(window.location.hash || "").slice(1);
  if (!hash || document.getElementById(hash)) return;
  const fallback = hash.startsWith("phrasing-") ? document.getElementById("phrasings-heading") : null;
  if (fallback) {
    fallback.scrollIntoView({ block: "start" });
    fallback.classList.add("is-search-target");
  }
}

function initSearch() {
  followSearchAnchor();
  const results = document.querySelector("[data-search-results]");
  if (results) setUpResultNavigation(results);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initSearch);
else initSearch();
