// Herald's web interface: the little behaviour htmx doesn't cover. No inline script anywhere (the CSP forbids it):
// elements opt in with data- attributes.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // <select data-submit-on-change>: choosing submits its form (the button beside it is for browsers without JS).
  for (const select of document.querySelectorAll("select[data-submit-on-change]")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
  document.documentElement.classList.add("js");
});

// <button data-confirm="Really?">: asks before its form is sent.
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const question = button && button.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
