// Start/stop timer on the contact form: fills the minutes field and the start time.
(function () {
  const box = document.querySelector("[data-timer]");
  if (!box) return;
  const minutes = document.querySelector("[data-timer-target=minutes]");
  const started = document.querySelector("input[name=started_at]");
  const button = box.querySelector("button");
  const shown = box.querySelector("output");
  let start = null;
  let tick = null;
  function elapsed() { return Math.max(1, Math.round((Date.now() - start) / 60000)); }
  function show() {
    const seconds = Math.floor((Date.now() - start) / 1000);
    shown.textContent = Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
    minutes.value = elapsed();
  }
  button.addEventListener("click", function () {
    if (start === null) {
      start = Date.now();
      started.value = new Date(start).toISOString();
      button.textContent = "Stop timer";
      button.setAttribute("aria-pressed", "true");
      show();
      tick = setInterval(show, 1000);
    } else {
      clearInterval(tick);
      minutes.value = elapsed();
      start = null;
      button.textContent = "Start timer";
      button.setAttribute("aria-pressed", "false");
    }
  });
})();
