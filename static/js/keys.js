/* Keys page: the Key Configurations form's small behaviours (the server checks everything anyway).
 *
 *   <fieldset data-redirect-grants="authorization_code implicit"> holds the grant-type checkboxes;
 *   the form's <input data-callback-url> is enabled and required only while one of those is ticked.
 *   <select name="…secret_expiry"> shows the row marked data-custom-days only for "custom".
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

  function syncAll() {
    document.querySelectorAll("form.keys-config").forEach(function (form) {
      syncCallback(form);
      syncExpiry(form);
    });
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest("form.keys-config");
    if (form) {
      syncCallback(form);
      syncExpiry(form);
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", syncAll);
  } else {
    syncAll();
  }
})();
