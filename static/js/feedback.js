// <feedback-box>: the feedback form opened in place. Keys typed in it stay in it: a run step answers
// to 1–9 and Backspace anywhere on the page (procedures.js), and choosing a feedback type with the
// keyboard must not answer the step.
customElements.define(
  "feedback-box",
  class extends HTMLElement {
    connectedCallback() {
      this.addEventListener("keydown", (event) => event.stopPropagation());
    }
  },
);
