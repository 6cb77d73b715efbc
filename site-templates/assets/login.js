// Login page helper. Reads the query string only; never throws.
// ?next=/p/slug/  → fills the hidden "next" field (local paths only)
// ?error=1 | https | limited | server → shows the matching message
// ?error=limited&wait=<seconds> → says how many minutes to wait
// The name typed is kept for the next try, in this tab only (sessionStorage:
// never in a URL, so never in a log line; the PIN is never kept).
(function () {
  "use strict";
  var KEPT = "sheetgen.login.name";
  try {
    var params = new URLSearchParams(window.location.search);
    var next = params.get("next");
    // A local path: one leading "/", not "//" or "/\" (both mean another host).
    if (next && next.length <= 512 && next.charAt(0) === "/" &&
        next.charAt(1) !== "/" && next.charAt(1) !== "\\" && !/[\u0000-\u001f]/.test(next)) {
      var field = document.querySelector('input[name="next"]');
      if (field) field.value = next;
    }
    var messages = {
      "1": "login-error",
      "https": "login-https",
      "limited": "login-limited",
      "server": "login-server"
    };
    var error = params.get("error");
    var known = error && Object.prototype.hasOwnProperty.call(messages, error);
    if (known) {
      var message = document.getElementById(messages[error]);
      var wait = params.get("wait");
      if (message && error === "limited" && wait && /^[0-9]{1,6}$/.test(wait)) {
        var minutes = Math.max(1, Math.ceil(Number(wait) / 60));
        var text = minutes === 1 ? message.getAttribute("data-one")
          : (message.getAttribute("data-many") || "").replace("{n}", String(minutes));
        if (text) message.textContent = text;
      }
      if (message) message.hidden = false;
    }
    var name = document.querySelector('input[name="name"]');
    var pin = document.querySelector('input[name="pin"]');
    var form = name && name.form;
    var store = null;
    try {
      store = window.sessionStorage;
    } catch (e) {
      store = null;
    }
    if (store && name) {
      var kept = store.getItem(KEPT);
      if (known && kept && !name.value) {
        name.value = kept;
        if (pin) pin.focus();
      } else if (!known) {
        store.removeItem(KEPT);
      }
      if (form) {
        form.addEventListener("submit", function () {
          try {
            store.setItem(KEPT, name.value);
          } catch (e) {
            // Storage full or refused: the name is simply not kept.
          }
        });
      }
    }
  } catch (e) {
    // Old browser or odd input: the form still works without this script.
  }
})();
