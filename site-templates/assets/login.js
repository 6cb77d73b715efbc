// Login page helper. Reads the query string only; never throws.
// Every answer already shows without this script (issue 27): gen renders a
// page per answer and nginx / `gen serve` pick it by the query. This adds
// comfort only:
// ?next=/p/slug/  → fills the hidden "next" field (local paths only)
// the name typed is kept for the next try, in this tab only (sessionStorage:
// never in a URL, so never in a log line; the PIN is never kept), and the
// PIN field focused.
// When the server picked no page (an nginx file from before issue 27), the
// answer is shown from the query: ?error=1 | https | limited | locked |
// server, &wait=<seconds> in minutes, ?out=1.
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
      "locked": "login-locked",
      "server": "login-server"
    };
    var error = params.get("error");
    var known = error && Object.prototype.hasOwnProperty.call(messages, error);
    var shown = document.querySelector('[id^="login-"][role]:not([hidden])');
    if (known && !shown) {
      var message = document.getElementById(messages[error]);
      var wait = params.get("wait");
      if (message && (error === "limited" || error === "locked") && wait && /^[0-9]{1,6}$/.test(wait)) {
        var minutes = Math.max(1, Math.ceil(Number(wait) / 60));
        var one = message.getAttribute("data-one");
        var text = minutes === 1 && one ? one
          : (message.getAttribute("data-many") || "").replace("{n}", String(minutes));
        if (text) message.textContent = text;
      }
      if (message && message.textContent) message.hidden = false;
    } else if (params.get("out") === "1" && !shown) {
      var out = document.getElementById("login-out");
      if (out) out.hidden = false;
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
