// The compose page (templates/web/compose/compose.html): recipient chips picked from a search, `@` completion in the
// texts, uploads to the API's media endpoint, and the preview brought into view. No inline script (the CSP forbids
// it); the server does the rest (search, counters, checks: htmx and the form's POST).
"use strict";

(() => {
  const form = document.querySelector("form[data-compose]");
  if (!form) {
    return;
  }
  const csrfToken = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const removeLabel = form.dataset.removeLabel;

  // A chip: a hidden input carrying `value` under `name`, its label, and a button that removes it.
  function addChip(list, name, value, label, kind) {
    for (const input of list.querySelectorAll("input[type=hidden]")) {
      if (input.value === value) {
        return;
      }
    }
    const chip = document.createElement("li");
    chip.className = "chip";
    const input = document.createElement("input");
    Object.assign(input, { type: "hidden", name, value });
    const text = document.createElement("span");
    text.className = "chip-label";
    text.textContent = label;
    chip.append(input, text);
    if (kind) {
      const kindText = document.createElement("span");
      kindText.className = "chip-kind";
      kindText.textContent = kind;
      chip.append(" ", kindText);
    }
    const remove = document.createElement("button");
    Object.assign(remove, { type: "button", className: "chip-remove", textContent: "×" });
    remove.dataset.removeChip = "";
    remove.setAttribute("aria-label", removeLabel.replace("%(label)s", label));
    chip.append(" ", remove);
    list.append(chip);
  }

  form.addEventListener("click", (event) => {
    const remove = event.target.closest("[data-remove-chip]");
    if (remove) {
      const field = remove.closest(".field");
      remove.closest(".chip").remove();
      (field.querySelector("input:not([type=hidden]), textarea") || form).focus();
    }
  });

  // A listbox driven from a text box (aria-activedescendant): ↓ ↑ move, Enter (or Tab) picks, Escape closes.
  function listbox(box, list, pick) {
    const options = () => [...list.querySelectorAll("[role=option]:not([aria-disabled=true])")];
    let active = -1;
    function show(index) {
      const all = options();
      active = all.length ? (index + all.length) % all.length : -1;
      all.forEach((option, i) => option.setAttribute("aria-selected", String(i === active)));
      if (active >= 0) {
        box.setAttribute("aria-activedescendant", all[active].id);
        all[active].scrollIntoView({ block: "nearest" });
      } else {
        box.removeAttribute("aria-activedescendant");
      }
    }
    function close() {
      list.replaceChildren();
      list.hidden = true;
      box.setAttribute("aria-expanded", "false");
      show(-1);
    }
    function opened() {
      list.hidden = list.children.length === 0;
      box.setAttribute("aria-expanded", String(!list.hidden));
      show(options().length ? 0 : -1);
    }
    box.addEventListener("keydown", (event) => {
      const open = !list.hidden && options().length > 0;
      if (!open) {
        return;
      }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        show(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if ((event.key === "Enter" || event.key === "Tab") && active >= 0) {
        event.preventDefault();
        pick(options()[active]);
        close();
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });
    list.addEventListener("mousedown", (event) => {
      const option = event.target.closest("[role=option]:not([aria-disabled=true])");
      if (option) {
        event.preventDefault(); // keep the focus in the box
        pick(option);
        close();
      }
    });
    box.addEventListener("blur", () => setTimeout(close, 150));
    return { opened, close };
  }

  // Recipients: htmx fills the results as the search is typed; picking one makes a chip.
  const search = form.querySelector("[data-recipient-search]");
  const results = document.getElementById(search.getAttribute("aria-controls"));
  const chips = document.getElementById("recipient-chips");
  const recipients = listbox(search, results, (option) => {
    addChip(chips, "recipients", option.dataset.value, option.dataset.label, option.dataset.kind);
    search.value = "";
  });
  results.hidden = true;
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target === results) {
      recipients.opened();
    }
  });

  // `@` completion: the workspace's expressions (a hidden list on the page) matching what follows the `@` typed.
  const expressions = [...document.querySelectorAll("#expressions [data-expression]")].map((item) => ({
    expression: item.dataset.expression,
    label: item.textContent,
  }));
  for (const textarea of form.querySelectorAll("textarea[data-expression-input]")) {
    const list = document.getElementById(textarea.getAttribute("aria-controls"));
    const typedToken = () => /@[\w.]*$/.exec(textarea.value.slice(0, textarea.selectionStart));
    const suggestions = listbox(textarea, list, (option) => {
      const token = typedToken();
      const start = token ? token.index : textarea.selectionStart;
      const expression = option.dataset.expression;
      textarea.setRangeText(expression, start, textarea.selectionStart, "end");
      textarea.dispatchEvent(new Event("input", { bubbles: true })); // the counter follows
    });
    textarea.addEventListener("input", (event) => {
      const token = event.isTrusted ? typedToken() : null;
      if (!token) {
        suggestions.close();
        return;
      }
      const typed = token[0].toLowerCase();
      const matching = expressions.filter((e) => e.expression.toLowerCase().startsWith(typed)).slice(0, 8);
      list.replaceChildren(
        ...matching.map((e, i) => {
          const option = document.createElement("li");
          Object.assign(option, { id: `${list.id}-${i}`, className: "option" });
          option.setAttribute("role", "option");
          option.dataset.expression = e.expression;
          const code = document.createElement("code");
          code.textContent = e.expression;
          const label = document.createElement("span");
          label.className = "muted";
          label.textContent = ` ${e.label}`;
          option.append(code, label);
          return option;
        }),
      );
      suggestions.opened();
    });
  }

  // Attachments: each chosen file is POSTed to the API's media endpoint with the session (the API's own checks);
  // the upload's UUID joins the form as a chip, or the API's message shows beside the field.
  for (const upload of form.querySelectorAll("input[type=file][data-upload]")) {
    upload.addEventListener("change", async () => {
      const field = upload.closest("[data-upload-field]");
      const error = field.querySelector("[data-upload-error]");
      error.hidden = true;
      for (const file of upload.files) {
        const body = new FormData();
        body.append("file", file);
        const answer = await fetch(upload.dataset.upload, {
          method: "POST",
          body,
          headers: { "X-CSRFToken": csrfToken },
          credentials: "same-origin",
        });
        const data = await answer.json().catch(() => ({}));
        if (answer.status === 201) {
          addChip(field.querySelector("[data-chips]"), upload.dataset.name, data.uuid, data.filename, "");
        } else {
          error.textContent = `${file.name}: ${[data.file, data.detail].flat().filter(Boolean).join(" ") || answer.statusText}`;
          error.hidden = false;
        }
      }
      upload.value = "";
    });
  }

  // Enter in a one-line box never sends the form: with a preview shown, its Send would be the form's default button.
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.tagName === "INPUT" && event.target.type !== "submit") {
      event.preventDefault();
    }
  });

  // Sent once: a second click while the page is on its way does nothing.
  let sending = false;
  form.addEventListener("submit", (event) => {
    if (sending) {
      event.preventDefault();
    }
    sending = !event.defaultPrevented;
  });

  const preview = form.querySelector("[data-preview]");
  if (preview) {
    preview.scrollIntoView({ block: "start" });
    preview.focus({ preventScroll: true });
  }
})();
