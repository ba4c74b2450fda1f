// Search behaviour: suggestions under the header box, and keyboard navigation of the results page.
// Plain JavaScript, no framework, no build step.

const SUGGEST_DELAY_MS = 120;

// Header box: a combobox whose listbox shows /search/suggest/ titles as the agent types.
// ↑ ↓ move through the suggestions, Enter opens the chosen one (or submits the search), Esc closes.
function setUpSuggestions(input) {
  const url = input.dataset.suggestUrl;
  if (!url) return;
  const form = input.closest("form");
  const list = document.createElement("ul");
  list.id = `${input.id}-suggestions`;
  list.className = "suggest-list";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "搜索建议");
  list.hidden = true;
  form.appendChild(list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");

  let timer = null;
  let controller = null;
  let items = [];
  let active = -1;
  let lastQuery = null;

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function setActive(index) {
    const options = list.querySelectorAll("[role=option]");
    options.forEach((option, i) => option.setAttribute("aria-selected", i === index ? "true" : "false"));
    active = index;
    if (index >= 0 && options[index]) {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function render(data) {
    items = Array.isArray(data) ? data : [];
    list.replaceChildren();
    items.forEach((item, index) => {
      const option = document.createElement("li");
      option.id = `${list.id}-${index}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.className = "suggest-option";
      const badge = document.createElement("span");
      badge.className = `badge badge-type badge-${item.type}`;
      badge.textContent = item.type_label || item.type;
      const title = document.createElement("span");
      title.className = "suggest-title";
      title.textContent = item.title;
      option.append(badge, title);
      // mousedown, not click: it fires before the input loses focus and closes the list.
      option.addEventListener("mousedown", (event) => {
        event.preventDefault();
        window.location.href = item.url;
      });
      list.appendChild(option);
    });
    active = -1;
    if (items.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    } else {
      close();
    }
  }

  async function fetchSuggestions() {
    const query = input.value.trim();
    if (query === lastQuery) return;
    lastQuery = query;
    if (!query) {
      render([]);
      return;
    }
    if (controller) controller.abort();
    controller = new AbortController();
    try {
      const response = await fetch(`${url}?${new URLSearchParams({ q: query })}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: controller.signal,
      });
      if (!response.ok) return render([]);
      if (input.value.trim() === query) render(await response.json());
    } catch (error) {
      if (error.name !== "AbortError") render([]);
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(fetchSuggestions, SUGGEST_DELAY_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (event.isComposing) return; // the IME is still choosing characters
    if (event.key === "ArrowDown") {
      if (list.hidden && items.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      }
      if (items.length) {
        event.preventDefault();
        setActive((active + 1) % items.length);
      }
    } else if (event.key === "ArrowUp") {
      if (items.length && !list.hidden) {
        event.preventDefault();
        setActive(active <= 0 ? items.length - 1 : active - 1);
      }
    } else if (event.key === "Enter") {
      if (!list.hidden && active >= 0 && items[active]) {
        event.preventDefault();
        window.location.href = items[active].url;
      }
      // otherwise the form submits and opens the results page
    } else if (event.key === "Escape") {
      if (!list.hidden) {
        event.preventDefault();
        close();
      }
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
  input.addEventListener("focus", () => {
    if (items.length && input.value.trim() === lastQuery) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
  });
}

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

// Search results link to "#step-<key>" of a procedure and "#phrasing-<id>" on a section page. Where a
// page has no element with that id, land on the nearest one that exists (the flow overview's card,
// the section's phrasing list).
function followSearchAnchor() {
  const hash = decodeURIComponent(window.location.hash || "").slice(1);
  if (!hash || document.getElementById(hash)) return;
  let fallback = null;
  if (hash.startsWith("step-")) fallback = document.getElementById(`flow-${hash.slice(5)}`);
  else if (hash.startsWith("phrasing-")) fallback = document.getElementById("phrasings-heading");
  if (fallback) {
    fallback.scrollIntoView({ block: "start" });
    fallback.classList.add("is-search-target");
  }
}

function initSearch() {
  followSearchAnchor();
  document.querySelectorAll("input[data-suggest-url]").forEach(setUpSuggestions);
  const results = document.querySelector("[data-search-results]");
  if (results) setUpResultNavigation(results);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initSearch);
else initSearch();
