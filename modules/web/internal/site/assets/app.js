// modshop's progressive enhancement. Every page works without this file:
// it only makes forms nicer when JavaScript runs.
(function () {
  "use strict";
  // A form's button is disabled once the form is submitted, so a double
  // click sends one request (checkout also carries an Idempotency-Key, so a
  // second request could not place a second order either).
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.dataset.submitted === "1") { e.preventDefault(); return; }
    form.dataset.submitted = "1";
    form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) {
      b.disabled = true;
      b.setAttribute("aria-busy", "true");
    });
  });
  // A form that asks before a destructive change: data-confirm="question".
  document.addEventListener("submit", function (e) {
    var q = e.target.dataset.confirm;
    if (q && !window.confirm(q)) { e.preventDefault(); e.target.dataset.submitted = ""; e.stopImmediatePropagation(); }
  }, true);
  // A select with data-autosubmit submits its form when changed; without
  // JavaScript the form's own button does it.
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) {
      if (el.form.requestSubmit) { el.form.requestSubmit(); } else { el.form.submit(); }
    }
  });
  // The browser's back/forward cache may show a page whose buttons were
  // disabled by a submit; enable them again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitted]").forEach(function (f) {
      f.dataset.submitted = "";
      f.querySelectorAll("button[disabled][aria-busy]").forEach(function (b) { b.disabled = false; b.removeAttribute("aria-busy"); });
    });
  });
})();
