/* Consumer secrets: the + New Secret dialog, the delete confirmation dialog, and the table's
 * search, "Show expired" switch and paging without a page load.
 *
 * Everything here enhances links and forms that work without JavaScript:
 *   <a href=".../secrets/new/" data-secret-new="#dialog">      opens the dialog instead of the page
 *   <a href=".../delete/" data-secret-delete="#dialog" data-secret-name="…">
 *                                                                confirms in the dialog, then POSTs there
 *       (+ data-secret-last-used="…" and data-secret-recent: the dialog says when it was last used,
 *        and warns when that was in the last 24 hours)
 *   <div data-secrets-body> … <form data-secrets-filter> … <a data-secrets-page>
 *       the filter form and page links fetch "?fragment=1" and replace the body in place
 *   <select data-secret-expiry> + <div data-secret-custom-row>  the Custom days field shows for "custom"
 */
(function () {
  "use strict";

  var SEARCH_DELAY_MS = 300;

  function canUseDialogs() {
    return typeof HTMLDialogElement === "function";
  }

  function syncCustomRow(select) {
    var form = select.closest("form");
    var row = form && form.querySelector("[data-secret-custom-row]");
    if (!row) {
      return;
    }
    var custom = select.value === "custom";
    row.hidden = !custom;
    var input = row.querySelector("input");
    if (input) {
      input.required = custom;
    }
  }

  function openModal(dialog) {
    dialog.showModal();
    // [autofocus] first: a destructive dialog focuses Cancel, not its destructive button.
    var focus =
      dialog.querySelector("[autofocus]") || dialog.querySelector("input:not([type=hidden]), select, button");
    if (focus) {
      focus.focus();
    }
  }

  function fragmentUrl(url) {
    var target = new URL(url, window.location.href);
    target.searchParams.set("fragment", "1");
    return target;
  }

  function loadInto(body, url) {
    var active = document.activeElement;
    var activeId = active && body.contains(active) ? active.id : "";
    var caret = activeId && typeof active.selectionStart === "number" ? active.selectionStart : null;
    body.setAttribute("aria-busy", "true");
    return fetch(fragmentUrl(url), { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        body.innerHTML = html;
        body.removeAttribute("aria-busy");
        if (activeId) {
          var again = document.getElementById(activeId);
          if (again) {
            again.focus();
            if (caret !== null && typeof again.setSelectionRange === "function") {
              again.setSelectionRange(caret, caret);
            }
          }
        }
      })
      .catch(function () {
        // The page itself still works: go there.
        window.location.assign(url);
      });
  }

  function filterUrl(form) {
    var url = new URL(form.getAttribute("action"), window.location.href);
    new FormData(form).forEach(function (value, name) {
      if (value !== "") {
        url.searchParams.set(name, value);
      }
    });
    return url.toString();
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-secret-new], [data-secret-delete], [data-secrets-page]");
    if (!link || event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) {
      return;
    }
    if (link.hasAttribute("data-secrets-page")) {
      var body = link.closest("[data-secrets-body]");
      if (body) {
        event.preventDefault();
        loadInto(body, link.href);
      }
      return;
    }
    if (!canUseDialogs()) {
      return;
    }
    var selector = link.getAttribute("data-secret-new") || link.getAttribute("data-secret-delete");
    var dialog = document.querySelector(selector);
    if (!dialog) {
      return;
    }
    event.preventDefault();
    if (link.hasAttribute("data-secret-delete")) {
      var form = dialog.querySelector("form[data-secret-delete-form]");
      form.setAttribute("action", link.getAttribute("href"));
      var name = dialog.querySelector("[data-secret-delete-name]");
      if (name) {
        name.textContent = link.getAttribute("data-secret-name") || "";
      }
      var lastUsed = dialog.querySelector("[data-secret-delete-last-used]");
      if (lastUsed) {
        lastUsed.textContent = link.getAttribute("data-secret-last-used") || "";
      }
      var recent = dialog.querySelector("[data-secret-delete-recent]");
      if (recent) {
        recent.hidden = !link.hasAttribute("data-secret-recent");
      }
    }
    openModal(dialog);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-secrets-filter")) {
      return;
    }
    var body = form.closest("[data-secrets-body]");
    if (!body) {
      return;
    }
    event.preventDefault();
    loadInto(body, filterUrl(form));
  });

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches("[data-secret-expiry]")) {
      syncCustomRow(el);
    } else if (el.matches("[data-secrets-autosubmit]") && el.form) {
      el.form.requestSubmit();
    }
  });

  var searchTimer = null;
  document.addEventListener("input", function (event) {
    var el = event.target;
    if (el.type !== "search" || !el.form || !el.form.hasAttribute("data-secrets-filter")) {
      return;
    }
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(function () {
      el.form.requestSubmit();
    }, SEARCH_DELAY_MS);
  });

  function init() {
    document.querySelectorAll("[data-secret-expiry]").forEach(syncCustomRow);
    // A form sent back with errors opens its dialog again, so the errors are seen.
    document.querySelectorAll("dialog form[data-secret-form]").forEach(function (form) {
      if (form.querySelector(".errorlist") && canUseDialogs()) {
        openModal(form.closest("dialog"));
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
