/* Developer Portal — behaviours shared by every page, wired by data attributes (no inline script).
 *
 *   <button type="button" class="copy" data-copy-target="#id">Copy</button>
 *       copies the value (inputs, textareas) or the text of #id; says "Copied" for a moment.
 *   <button type="button" data-dialog-open="#dialog-id">  opens that <dialog> as a modal and focuses
 *                                                          its [autofocus] element, else (in a dialog with
 *                                                          a .btn-danger) its [data-dialog-close] button,
 *                                                          else its first field or button.
 *   <button type="button" data-dialog-close>               closes the dialog it sits in.
 *   <dialog data-dialog-autoopen>                          opens on page load (e.g. a form with errors).
 *   <button type="button" data-toggle-reveal="#id">Show</button>
 *       toggles `hidden` between #id and #id-masked; the label switches Show/Hide.
 *   <button type="button" data-dismiss>                    removes its .flash (or [data-dismissable]).
 *   <form data-busy="Generating…">                         on submit, disables its submit buttons and
 *                                                          shows the text: no double submissions.
 *
 * Events are delegated from the document, so content added later (fetched partials) works too.
 */
(function () {
  "use strict";

  var COPIED_MS = 1600;

  function textOf(target) {
    if (target.matches("input, textarea, select")) {
      return target.value;
    }
    return target.textContent.trim();
  }

  // The fallback for pages served over plain HTTP (no Clipboard API outside secure contexts).
  function copyWithSelection(text) {
    var buffer = document.createElement("textarea");
    buffer.value = text;
    buffer.setAttribute("readonly", "");
    buffer.className = "copy-buffer";
    document.body.appendChild(buffer);
    buffer.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (err) {
      ok = false;
    }
    document.body.removeChild(buffer);
    return ok;
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(
        function () {
          return true;
        },
        function () {
          return copyWithSelection(text);
        }
      );
    }
    return Promise.resolve(copyWithSelection(text));
  }

  function flashLabel(button, label, className) {
    if (!button.dataset.label) {
      button.dataset.label = button.textContent;
    }
    button.textContent = label;
    button.classList.add(className);
    window.clearTimeout(button._copyTimer);
    button._copyTimer = window.setTimeout(function () {
      button.textContent = button.dataset.label;
      button.classList.remove(className);
    }, COPIED_MS);
  }

  function onCopy(button) {
    var target = document.querySelector(button.getAttribute("data-copy-target"));
    if (!target) {
      return;
    }
    copyText(textOf(target)).then(function (ok) {
      if (ok) {
        flashLabel(button, "Copied", "copied");
      } else {
        // Could not write the clipboard: select the text so the user can press Ctrl+C.
        if (target.select) {
          target.select();
        } else {
          var range = document.createRange();
          range.selectNodeContents(target);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
        }
        flashLabel(button, "Press Ctrl+C", "copy-failed");
      }
    });
  }

  function openDialog(dialog) {
    if (!dialog || dialog.open) {
      return;
    }
    dialog.showModal();
    focusIn(dialog).focus();
  }

  // Where the keyboard lands in a dialog just opened: what the template marked [autofocus]; in a
  // destructive dialog the way out, so a stray Enter cancels instead of deleting; else the first field.
  function focusIn(dialog) {
    var target = dialog.querySelector("[autofocus]");
    if (!target && dialog.querySelector(".btn-danger")) {
      target = dialog.querySelector("[data-dialog-close]");
    }
    return target || dialog.querySelector("input:not([type=hidden]), select, textarea, button") || dialog;
  }

  function onReveal(button) {
    var selector = button.getAttribute("data-toggle-reveal");
    var shown = document.querySelector(selector);
    var masked = document.querySelector(selector + "-masked");
    if (!shown) {
      return;
    }
    var reveal = shown.hidden;
    shown.hidden = !reveal;
    if (masked) {
      masked.hidden = reveal;
    }
    button.textContent = reveal ? "Hide" : "Show";
    button.setAttribute("aria-pressed", reveal ? "true" : "false");
  }

  document.addEventListener("click", function (event) {
    var el = event.target.closest(
      "[data-copy-target], [data-dialog-open], [data-dialog-close], [data-toggle-reveal], [data-dismiss]"
    );
    if (el) {
      if (el.hasAttribute("data-copy-target")) {
        event.preventDefault();
        onCopy(el);
      } else if (el.hasAttribute("data-dialog-open")) {
        event.preventDefault();
        openDialog(document.querySelector(el.getAttribute("data-dialog-open")));
      } else if (el.hasAttribute("data-dialog-close")) {
        event.preventDefault();
        var dialog = el.closest("dialog");
        if (dialog) {
          dialog.close();
        }
      } else if (el.hasAttribute("data-toggle-reveal")) {
        event.preventDefault();
        onReveal(el);
      } else if (el.hasAttribute("data-dismiss")) {
        var box = el.closest(".flash, [data-dismissable]");
        if (box) {
          box.remove();
        }
      }
      return;
    }
    // A click on a modal's backdrop lands on the <dialog> element itself: close it.
    if (event.target.tagName === "DIALOG" && event.target.open) {
      var rect = event.target.getBoundingClientRect();
      var inside =
        event.clientX >= rect.left &&
        event.clientX <= rect.right &&
        event.clientY >= rect.top &&
        event.clientY <= rect.bottom;
      if (!inside) {
        event.target.close();
      }
    }
    // Close an open user menu when clicking elsewhere.
    document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) {
        menu.removeAttribute("open");
      }
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
        menu.removeAttribute("open");
      });
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var busy = form.getAttribute("data-busy");
    if (busy === null || event.defaultPrevented) {
      return;
    }
    // Disable after the browser has collected the form data (a disabled submitter would be left out).
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (button) {
        button.disabled = true;
        if (busy && button === event.submitter) {
          button.textContent = busy;
        }
      });
    }, 0);
  });

  // Coming back with the Back button restores a page from the cache with its buttons still disabled.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      document.querySelectorAll("form[data-busy] [type=submit]").forEach(function (button) {
        button.disabled = false;
      });
    }
  });

  function init() {
    document.querySelectorAll("dialog[data-dialog-autoopen]").forEach(openDialog);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
