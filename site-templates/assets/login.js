// Login page helper. Reads the query string only; never throws.
// ?next=/p/slug/  → fills the hidden "next" field (local paths only)
// ?error=1 | https | limited → shows the matching message
(function () {
  "use strict";
  try {
    var params = new URLSearchParams(window.location.search);
    var next = params.get("next");
    // A local path: one leading "/", not "//" or "/\" (both mean another host).
    if (next && next.length <= 512 && next.charAt(0) === "/" &&
        next.charAt(1) !== "/" && next.charAt(1) !== "\\" && !/[\u0000-\u001f]/.test(next)) {
      var field = document.querySelector('input[name="next"]');
      if (field) field.value = next;
    }
    var messages = { "1": "login-error", "https": "login-https", "limited": "login-limited" };
    var error = params.get("error");
    if (error && Object.prototype.hasOwnProperty.call(messages, error)) {
      var message = document.getElementById(messages[error]);
      if (message) message.hidden = false;
    }
  } catch (e) {
    // Old browser or odd input: the form still works without this script.
  }
})();
