/* Keys page: the Key Configurations form's small behaviours (the server checks everything anyway).
 *
 *   <fieldset data-redirect-grants="authorization_code implicit"> holds the grant-type checkboxes;
 *   the form's <input data-callback-url> is enabled and required only while one of those is ticked.
 *   <select name="…secret_expiry"> shows the row marked data-custom-days only for "custom".
 *   "Support PKCE Plain Text" (…pkce_support_plain) is unticked and disabled while "Enable PKCE"
 *   (…pkce_mandatory) is unticked: plain only means something with PKCE.
 *   <… data-canonical-url="/applications/…/keys/production/?km=…"> puts the page's own URL in the
 *   address bar after a POST rendered it at an action URL, so that a reload does not post again.
 *   A form sent back with errors focuses its [autofocus] field (the first one to fix), also in a
 *   dialog opened on load.
 *   The page's flash messages move to the panel the page lands on (the URL's #anchor: Key
 *   Configurations after Update, Consumer Secrets after deleting a secret), into a live region,
 *   so they are seen where the user is looking and announced to screen readers.
 *   <fieldset data-scope-picker> with an <input data-scope-filter> hides the scopes whose
 *   [data-scope-text] does not contain what is typed (never a ticked one).
 */
(function () {
  "use strict";

  function syncCallback(form) {
    var grants = form.querySelector("[data-redirect-grants]");
    var callback = form.querySelector("[data-callback-url]");
    if (!grants || !callback) {
      return;
    }
    var redirect = (grants.getAttribute("data-redirect-grants") || "").split(/\s+/).filter(Boolean);
    var needed = Array.prototype.some.call(
      grants.querySelectorAll("input[type=checkbox]"),
      function (box) {
        return box.checked && redirect.indexOf(box.value) !== -1;
      }
    );
    callback.disabled = !needed;
    callback.required = needed;
    callback.setAttribute("aria-required", needed ? "true" : "false");
  }

  function syncExpiry(form) {
    var select = form.querySelector("select[name$=secret_expiry]");
    var row = form.querySelector("[data-custom-days]");
    if (!select || !row) {
      return;
    }
    var custom = select.value === "custom";
    row.hidden = !custom;
    var input = row.querySelector("input");
    if (input) {
      input.disabled = !custom;
    }
  }

  function syncPkce(form) {
    var pkce = form.querySelector("input[type=checkbox][name$=pkce_mandatory]");
    var plain = form.querySelector("input[type=checkbox][name$=pkce_support_plain]");
    // A field the key manager cannot honour (data-unsupported) stays disabled.
    if (!pkce || !plain || plain.hasAttribute("data-unsupported")) {
      return;
    }
    if (!pkce.checked) {
      plain.checked = false;
    }
    plain.disabled = !pkce.checked;
  }

  function sync(form) {
    syncCallback(form);
    syncExpiry(form);
    syncPkce(form);
  }

  function showCanonicalUrl() {
    var holder = document.querySelector("[data-canonical-url]");
    var url = holder && holder.getAttribute("data-canonical-url");
    if (!url || !window.history || typeof window.history.replaceState !== "function") {
      return;
    }
    var target = new URL(url, window.location.href);
    // Keep the action's anchor where it names something on this page (#key-configuration after
    // an Update with errors), not where the answer no longer has it (#generate-keys once generated).
    var hash = window.location.hash;
    if (!target.hash && hash && document.getElementById(decodeURIComponent(hash.slice(1)))) {
      target.hash = hash;
    }
    if (target.origin === window.location.origin && target.href !== window.location.href) {
      window.history.replaceState(null, "", target.href);
    }
  }

  function focusFieldToFix() {
    // The server marks the first field with an error [autofocus]. portal.js focuses a dialog's
    // first field instead, and the browser skips autofocus when the URL has an anchor
    // (#key-configuration): focus it here.
    var field =
      document.querySelector("dialog[open] [autofocus]") ||
      document.querySelector("[autofocus][aria-invalid=true]");
    if (field && !field.closest("dialog:not([open])") && document.activeElement !== field) {
      field.focus();
    }
  }

  function panelFor(target) {
    // The anchor names a panel (a <section>) or its heading: the message goes right under the heading.
    var panel = target.closest("section") || target;
    var heading = /^H[1-6]$/.test(target.tagName) ? target : panel.querySelector("h2, h3");
    return { panel: panel, after: heading && panel.contains(heading) ? heading : null };
  }

  function moveMessagesToPanel() {
    var flashes = document.querySelector(".flashes");
    var hash = window.location.hash;
    if (!flashes || !hash) {
      return;
    }
    var target = document.getElementById(decodeURIComponent(hash.slice(1)));
    if (!target || !target.closest("main") || target.contains(flashes)) {
      return;
    }
    var place = panelFor(target);
    // An empty live region first, filled a moment later: screen readers announce a change to a
    // region they already know, not a region that appears with its text.
    var region = document.createElement("div");
    region.className = "flashes panel-messages";
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    region.setAttribute("data-panel-messages", "");
    if (place.after) {
      place.after.insertAdjacentElement("afterend", region);
    } else {
      place.panel.insertBefore(region, place.panel.firstChild);
    }
    var items = Array.prototype.slice.call(flashes.children);
    flashes.remove();
    window.setTimeout(function () {
      items.forEach(function (item) {
        item.removeAttribute("role");
        region.appendChild(item);
      });
    }, 50);
  }

  function filterScopes(input) {
    var picker = input.closest("[data-scope-picker]");
    var words = input.value.toLowerCase().trim();
    var shown = 0;
    picker.querySelectorAll("[data-scope-text]").forEach(function (row) {
      var box = row.querySelector("input[type=checkbox]");
      var match = !words || row.getAttribute("data-scope-text").indexOf(words) !== -1 || (box && box.checked);
      row.hidden = !match;
      shown += match ? 1 : 0;
    });
    var none = picker.querySelector("[data-scope-none]");
    if (none) {
      none.hidden = shown > 0;
    }
  }

  function init() {
    showCanonicalUrl();
    moveMessagesToPanel();
    document.querySelectorAll("form.keys-config").forEach(sync);
    focusFieldToFix();
    // Chromium clears the focus when it scrolls to the URL's anchor, once the page has loaded.
    window.addEventListener("load", function () {
      window.setTimeout(focusFieldToFix, 0);
    });
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches("[data-scope-filter]")) {
      filterScopes(event.target);
    }
  });

  document.addEventListener("keydown", function (event) {
    // Enter in the filter box must not send the token form.
    if (event.key === "Enter" && event.target.matches("[data-scope-filter]")) {
      event.preventDefault();
    }
  });

  document.addEventListener("change", function (event) {
    var form = event.target.closest("form.keys-config");
    if (form) {
      sync(form);
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
