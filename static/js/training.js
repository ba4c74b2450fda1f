// Training: <read-confirm> enables the confirm button once the reader has reached the end of the
// article and stayed the minimum time. The server checks the time again (a signed token holds when the
// page was served); the element only tells the reader how long is left.
class ReadConfirm extends HTMLElement {
  connectedCallback() {
    this.form = this.querySelector("form");
    this.button = this.querySelector("button[type=submit]");
    this.scrolled = this.querySelector("input[name=scrolled]");
    this.countdown = this.querySelector(".read-confirm-countdown");
    this.endsAt = Date.now() + Number(this.getAttribute("min-seconds") || 0) * 1000;
    this.reachedEnd = false;
    this.button.disabled = true;
    const end = this.closest("section")?.querySelector(".read-confirm-end") || this;
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) {
        this.reachedEnd = true;
        this.scrolled.value = "1";
        this.observer.disconnect();
        this.update();
      }
    });
    this.observer.observe(end);
    this.timer = setInterval(() => this.update(), 1000);
    this.update();
  }

  disconnectedCallback() {
    clearInterval(this.timer);
    this.observer?.disconnect();
  }

  update() {
    const left = Math.max(0, Math.ceil((this.endsAt - Date.now()) / 1000));
    const ready = this.reachedEnd && left === 0;
    this.button.disabled = !ready;
    if (!this.countdown) return;
    if (!this.reachedEnd) this.countdown.textContent = "请读到文章最后。";
    else if (left > 0) this.countdown.textContent = `还需 ${left} 秒。`;
    else this.countdown.textContent = "";
    if (ready) clearInterval(this.timer);
  }
}

if (!customElements.get("read-confirm")) customElements.define("read-confirm", ReadConfirm);
