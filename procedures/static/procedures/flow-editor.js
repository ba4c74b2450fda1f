/* The procedure editor's flow tools (procedures/flow_map.py, procedures/blocks.py):
 *
 * <callbook-step-key>     a step's key as a muted label over its hidden input; an empty key (a step just added)
 *                         gets "s-" + 6 hex digits at once, and so does the copied key of a duplicated step.
 * <callbook-step-target>  a "go to" field: a select of the procedure's own steps by kind and title, live as steps
 *                         are added, removed or renamed, with "＋ 新建步骤…" that appends a new step and points to it.
 * <callbook-flow-map>     the map beside the steps: posts the edit form to the flow map view whenever the graph
 *                         changes and shows the fragment it returns; a click on a step opens and scrolls to its block.
 *
 * They work on Wagtail's StreamField object (the element "<field>-root" carries it as .rootBlock): its children
 * in order, each with .type, .blockDef.meta.label and .block.childBlocks (key, title, ...). No build step.
 */
(() => {
  "use strict";

  const NEW = "__new__";
  // Fields of a step that never change the graph: left out when deciding whether the map must be fetched again.
  const NOT_GRAPH = new Set(["text", "phrasings", "follow_ups", "checklist", "target_seconds"]);
  let connections = 0;
  let booted = false;
  window.addEventListener("load", () => {
    booted = true;
  });

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function newKey(taken) {
    for (;;) {
      const key = `s-${hex(crypto.getRandomValues(new Uint8Array(3)))}`;
      if (!taken.has(key)) return key;
    }
  }

  function uuid4() {
    // crypto.randomUUID needs a secure context; a call centre's intranet may serve the admin over plain http.
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = hex(b);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function streamElementOf(element) {
    for (let node = element.parentElement; node; node = node.parentElement) {
      if (node.rootBlock) return node;
    }
    return null;
  }

  /* One per StreamField: knows its steps, keeps pickers, key labels and the map current. */
  class FlowStream {
    static of(element) {
      if (!element.flowStream) element.flowStream = new FlowStream(element);
      return element.flowStream;
    }

    constructor(element) {
      this.element = element;
      this.root = element.rootBlock;
      this.maps = new Set();
      this.signature = null;
      this.frame = 0;
      this.timer = 0;
      const schedule = () => this.schedule();
      element.addEventListener("input", schedule);
      element.addEventListener("change", schedule);
      // Blocks added, moved (child list) or deleted (Wagtail hides them with aria-hidden); our own widgets'
      // option lists change too, and are ignored.
      new MutationObserver((records) => {
        if (records.some((r) => !r.target.closest?.("callbook-step-target, callbook-step-key"))) schedule();
      }).observe(element, { childList: true, subtree: true, attributes: true, attributeFilter: ["aria-hidden"] });
      const form = element.closest("form");
      if (form) form.addEventListener("input", (event) => this.outside(event));
    }

    outside(event) {
      // Variables and outcome names are checked too: a change there redraws the map.
      if (!this.element.contains(event.target)) this.schedule();
    }

    steps() {
      return this.root.children.map((child, index) => {
        const fields = child.block.childBlocks || {};
        return {
          index,
          child,
          type: child.type,
          kind: child.blockDef.meta.label,
          key: fields.key ? fields.key.getState() || "" : "",
          title: fields.title ? (fields.title.getState() || "").trim() : "",
        };
      });
    }

    kinds() {
      const defs = Object.values(this.root.blockDef.childBlockDefsByName);
      return defs.map((def) => ({ name: def.name, label: def.meta.label }));
    }

    keys() {
      return new Set(this.steps().map((step) => step.key).filter(Boolean));
    }

    schedule() {
      if (this.frame) return;
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.refresh();
      });
    }

    refresh() {
      const steps = this.steps();
      this.element.querySelectorAll("callbook-step-key").forEach((el) => el.show());
      this.element.querySelectorAll("callbook-step-target").forEach((el) => el.render(steps));
      if (!this.maps.size) return;
      const signature = this.graphSignature();
      if (signature === this.signature) return;
      this.signature = signature;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.maps.forEach((map) => map.fetchMap()), 350);
    }

    graphSignature() {
      const steps = this.root.children.map((child) => {
        const state = child.block.getState();
        const kept = {};
        Object.keys(state).forEach((name) => {
          if (!NOT_GRAPH.has(name)) kept[name] = state[name];
        });
        return [child.type, kept];
      });
      const form = this.element.closest("form");
      const outside = [];
      if (form) {
        for (const input of form.querySelectorAll("[name^='variables-'], [name='outcomes'], [name='title']")) {
          outside.push(input.name, input.value);
        }
      }
      return JSON.stringify([steps, outside]);
    }

    /* Append a step of ``kind`` titled ``title`` with a fresh key; returns the key. */
    createStep(kind, title) {
      const key = newKey(this.keys());
      const initial = this.root.blockDef.initialChildStates[kind] || {};
      const value = { ...initial, key, title };
      this.root.insert({ type: kind, value, id: uuid4() }, this.root.children.length, { animate: true });
      this.schedule();
      return key;
    }

    open(key, index) {
      const steps = this.steps();
      const step = steps.find((s) => key && s.key === key) || steps[Number(index)];
      if (!step) return;
      const child = step.child;
      if (child.toggleElement && child.toggleElement.getAttribute("aria-expanded") === "false") {
        child.toggleElement.click();
      }
      child.element.scrollIntoView({ block: "start" });
      const title = child.block.childBlocks && child.block.childBlocks.title;
      if (title && title.widget && title.widget.input) title.widget.input.focus({ preventScroll: true });
      child.element.classList.add("cb-flow-opened");
      setTimeout(() => child.element.classList.remove("cb-flow-opened"), 1500);
    }
  }

  /* Run ``fn(stream)`` once the element's StreamField object exists (Wagtail sets it after rendering). */
  function withStream(element, fn, tries = 120) {
    const found = element.dataset.stream
      ? document.getElementById(`${element.dataset.stream}-root`)
      : streamElementOf(element);
    if (found && found.rootBlock) {
      fn(FlowStream.of(found));
    } else if (tries > 0) {
      requestAnimationFrame(() => withStream(element, fn, tries - 1));
    }
  }

  class StepKey extends HTMLElement {
    connectedCallback() {
      this.order = ++connections;
      // Wagtail sets the input's value right after inserting the widget: look once it has.
      queueMicrotask(() => withStream(this, (stream) => this.settle(stream)));
    }

    get input() {
      return this.querySelector("input");
    }

    settle(stream) {
      const input = this.input;
      const others = Array.from(stream.element.querySelectorAll("callbook-step-key")).filter(
        (el) => el !== this && !el.closest("[aria-hidden='true']"),
      );
      // A duplicated step arrives with its original's key; existing keys (demo keys like ask-package) stay.
      const copied =
        booted && input.value && others.some((el) => el.input.value === input.value && el.order < this.order);
      if (!input.value || copied) {
        input.value = newKey(new Set(others.map((el) => el.input.value)));
        stream.schedule();
      }
      this.show();
    }

    show() {
      const text = this.querySelector(".cb-step-key__text");
      const value = this.input.value || this.dataset.empty;
      if (text.textContent !== value) text.textContent = value;
    }
  }

  class StepTarget extends HTMLElement {
    connectedCallback() {
      if (this.wired) {
        withStream(this, (stream) => stream.schedule());
        return;
      }
      this.wired = true;
      this.select = this.querySelector(".cb-step-target__select");
      this.creator = this.querySelector(".cb-step-target__new");
      this.titleInput = this.querySelector(".cb-step-target__title");
      this.kindSelect = this.querySelector(".cb-step-target__kind");
      this.error = this.querySelector(".cb-step-target__error");
      this.select.addEventListener("change", () => this.picked());
      this.querySelector(".cb-step-target__create").addEventListener("click", () => this.create());
      this.querySelector(".cb-step-target__cancel").addEventListener("click", () => this.closeCreator());
      this.creator.addEventListener("keydown", (event) => {
        // Enter here must not submit the page form.
        if (event.key === "Enter") {
          event.preventDefault();
          this.create();
        } else if (event.key === "Escape") {
          event.preventDefault();
          this.closeCreator();
        }
      });
      queueMicrotask(() => withStream(this, (stream) => stream.schedule()));
    }

    get input() {
      return this.querySelector("input[type='hidden']");
    }

    stream() {
      const element = streamElementOf(this);
      return element ? FlowStream.of(element) : null;
    }

    render(steps) {
      const value = this.input.value;
      const options = [["", this.dataset.choose]];
      let found = false;
      for (const step of steps) {
        if (!step.key) continue;
        const mine = step.child.element.contains(this);
        const title = step.title || this.dataset.untitled;
        options.push([step.key, `${step.kind} · ${title}${mine ? `（${this.dataset.thisStep}）` : ""}`]);
        if (step.key === value) found = true;
      }
      if (value && !found) options.push([value, `${this.dataset.missing}：${value}`]);
      options.push([NEW, this.dataset.new]);
      const signature = JSON.stringify(options);
      if (signature !== this.signature) {
        this.signature = signature;
        this.select.replaceChildren(
          ...options.map(([key, label]) => {
            const option = document.createElement("option");
            option.value = key;
            option.textContent = label;
            return option;
          }),
        );
      }
      this.select.value = value;
      this.select.classList.toggle("is-missing", Boolean(value) && !found);
    }

    picked() {
      if (this.select.value === NEW) {
        this.select.value = this.input.value;
        this.openCreator();
        return;
      }
      this.set(this.select.value);
    }

    set(key) {
      this.input.value = key;
      this.input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    openCreator() {
      const stream = this.stream();
      if (!stream) return;
      if (!this.kindSelect.options.length) {
        for (const kind of stream.kinds()) {
          const option = document.createElement("option");
          option.value = kind.name;
          option.textContent = kind.label;
          this.kindSelect.append(option);
        }
      }
      this.error.hidden = true;
      this.creator.hidden = false;
      this.titleInput.focus();
    }

    closeCreator() {
      this.creator.hidden = true;
      this.titleInput.value = "";
      this.select.focus();
    }

    create() {
      const title = this.titleInput.value.trim();
      if (!title) {
        this.error.textContent = this.dataset.titleRequired;
        this.error.hidden = false;
        this.titleInput.focus();
        return;
      }
      const stream = this.stream();
      if (!stream) return;
      const key = stream.createStep(this.kindSelect.value, title);
      this.set(key);
      this.closeCreator();
    }
  }

  class FlowMap extends HTMLElement {
    // Defined before the page is parsed, the element connects before its children exist: look them up late.
    get status() {
      return this.querySelector(".cb-flow-map__status");
    }

    get body() {
      return this.querySelector(".cb-flow-map__body");
    }

    connectedCallback() {
      if (this.wired) return;
      this.wired = true;
      this.addEventListener("click", (event) => {
        const button = event.target.closest(".cb-flow-step__open");
        if (button && this.flow) this.flow.open(button.dataset.stepKey, button.dataset.stepIndex);
      });
      withStream(this, (stream) => {
        this.flow = stream;
        stream.maps.add(this);
        stream.schedule();
      });
    }

    async fetchMap() {
      const form = this.closest("form");
      if (!form) return;
      const data = new FormData(form);
      if (this.dataset.page) data.set("page", this.dataset.page);
      if (this.request) this.request.abort();
      const request = new AbortController();
      this.request = request;
      this.setAttribute("aria-busy", "true");
      this.status.textContent = this.dataset.loading;
      try {
        const response = await fetch(this.dataset.url, {
          method: "POST",
          body: data,
          credentials: "same-origin",
          headers: { "X-Requested-With": "XMLHttpRequest" },
          signal: request.signal,
        });
        const html = await response.text();
        if (request !== this.request) return;
        this.body.innerHTML = response.ok || response.status === 400 ? html : "";
        this.status.textContent = response.ok ? "" : this.dataset.failed;
      } catch (error) {
        if (error.name === "AbortError") return;
        this.status.textContent = this.dataset.failed;
      }
      if (request === this.request) {
        this.removeAttribute("aria-busy");
        this.dataset.updated = String(Number(this.dataset.updated || 0) + 1);
      }
    }
  }

  if (!customElements.get("callbook-step-key")) customElements.define("callbook-step-key", StepKey);
  if (!customElements.get("callbook-step-target")) customElements.define("callbook-step-target", StepTarget);
  if (!customElements.get("callbook-flow-map")) customElements.define("callbook-flow-map", FlowMap);
})();
