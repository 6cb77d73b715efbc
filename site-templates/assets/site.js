// Every page (issue 17): the logged-in state on pages that are the same for
// everyone. Never throws; without it every page stays complete ("Log in" in
// the header). The roster's own part is roster.js.
//
// The login sets, beside the HttpOnly session, a cookie this script may read
// naming the player's page ("slug", or "slug:admin"). It is a hint for the
// display only: every private page is still checked against the session by
// the server, which clears the hint whenever it sends someone to the login
// page for want of a valid session.
(function () {
  "use strict";

  var HINTS = ["__Host-gen_player", "gen_player"];

  // { page: "/p/slug/", admin: bool, cookie: name } or null.
  function hint() {
    var parts = document.cookie ? document.cookie.split(";") : [];
    for (var i = 0; i < parts.length; i++) {
      var pair = parts[i].replace(/^\s+/, "");
      var eq = pair.indexOf("=");
      if (eq < 0 || HINTS.indexOf(pair.slice(0, eq)) < 0) continue;
      var m = /^([a-z0-9-]{1,200})(:admin)?$/.exec(pair.slice(eq + 1));
      if (m) return { page: "/p/" + m[1] + "/", admin: !!m[2], cookie: pair.slice(0, eq) };
    }
    return null;
  }

  function forget(me) {
    var secure = me.cookie.indexOf("__Host-") === 0 ? "; Secure" : "";
    document.cookie = me.cookie + "=; Path=/; Max-Age=0; SameSite=Lax" + secure;
  }

  function each(list, f) {
    for (var i = 0; i < list.length; i++) f(list[i], i);
  }

  var me = null;
  try {
    me = hint();
    if (me && location.pathname === "/login/") {
      // Sent here from our own page: the server has just said the session
      // is over (it clears the hint too). Otherwise, go to our page.
      if (new URLSearchParams(location.search).get("next") === me.page) {
        forget(me);
        me = null;
      } else {
        location.replace(me.page);
        return;
      }
    }
  } catch (e) {
    me = null;
  }

  // The header: "My page", the organiser's page for an admin, "Log out"
  // (unless the page has its own logout button).
  try {
    var nav = document.querySelector(".site-header nav");
    var offer = document.getElementById("nav-in");
    if (me && nav && offer && offer.content) {
      var items = offer.content.cloneNode(true);
      if (!me.admin) each(items.querySelectorAll("[data-admin]"), function (a) { a.remove(); });
      if (document.querySelector("main form.logout")) {
        each(items.querySelectorAll(".nav-logout"), function (f) { f.remove(); });
      }
      each(nav.querySelectorAll(".nav-login"), function (a) { a.remove(); });
      nav.appendChild(items);
    }
    if (me) {
      each(document.querySelectorAll("a[data-me]"), function (a) {
        a.setAttribute("href", me.page);
        a.hidden = false;
        if (location.pathname === me.page) a.setAttribute("aria-current", "page");
      });
      each(document.querySelectorAll("[data-signed-out]"), function (el) { el.hidden = true; });
    }
  } catch (e) {
    // The header keeps "Log in".
  }

  // A table wider than its box says so above it (issue 27): the hint
  // before each .table-wrap shows only while the table overflows (a
  // player's table is a card per row on a phone: no hint there).
  var hints = function () {
    each(document.querySelectorAll(".table-wrap"), function (wrap) {
      var hint = wrap.previousElementSibling;
      if (!hint || !hint.classList.contains("scroll-hint")) return;
      hint.classList.remove("narrow");
      hint.hidden = wrap.hidden || wrap.scrollWidth <= wrap.clientWidth + 1;
    });
  };
  try {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", hints);
    } else {
      hints();
    }
    window.addEventListener("resize", hints);
  } catch (e) {
    // Hints stay as the page has them.
  }

  // For roster.js (the roster page only).
  window.sheetgenMe = me;
  window.sheetgenHints = hints;
})();
