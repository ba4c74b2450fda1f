// The run step's quiet step timer and the reminder of 必说 lines not ticked yet.
// Without this file the page still works: the timer shows when the step was entered, the reminder
// the count at page load.

// Time on this step, from the server's clock: the page says when the step was entered and what time
// the server had when it rendered, so a reload goes on counting and a wrong clock on the agent's
// computer changes nothing. Past the step's target (data-target, seconds) it turns amber.
class StepTimer extends HTMLElement {
  connectedCallback() {
    const entered = Number(this.dataset.entered);
    const serverNow = Number(this.dataset.now);
    if (!entered || !serverNow) return;
    this.start = Date.now() - Math.max(0, serverNow - entered) * 1000;
    this.target = Number(this.dataset.target) || 0;
    this.output = this.querySelector("[data-elapsed]") || this;
    this.tick();
    this.timer = setInterval(() => this.tick(), 1000);
  }

  disconnectedCallback() {
    clearInterval(this.timer);
  }

  tick() {
    const seconds = Math.max(0, Math.floor((Date.now() - this.start) / 1000));
    const minutes = Math.floor(seconds / 60);
    this.output.textContent = `${minutes}:${String(seconds % 60).padStart(2, "0")}`;
    this.classList.toggle("is-over", this.target > 0 && seconds > this.target);
  }
}
customElements.define("step-timer", StepTimer);

// "还有 N 句必说话术未勾选" by the buttons, kept up to date as the 已说 boxes are ticked.
class MustSayReminder extends HTMLElement {
  connectedCallback() {
    this.update = () => {
      const boxes = [...document.querySelectorAll("input[data-must-say]")];
      const left = boxes.filter((box) => !box.checked).length;
      this.textContent = left ? this.dataset.template.replace("{n}", left) : this.dataset.done;
      this.classList.toggle("is-done", left === 0);
    };
    document.addEventListener("change", this.update);
    this.update();
  }

  disconnectedCallback() {
    document.removeEventListener("change", this.update);
  }
}
customElements.define("must-say-reminder", MustSayReminder);
