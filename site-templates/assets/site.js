// Every page (issue 17): the logged-in state on pages that are the same for
// everyone, and the roster's search box. Never throws; without it every page
// stays complete ("Log in" in the header, every name a link, no search box).
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

  function fold(s) {
    s = String(s).toLowerCase();
    return s.normalize ? s.normalize("NFD").replace(/[\u0300-\u036f]/g, "") : s;
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

  var roster = document.querySelector("table.roster");
  if (!roster || !roster.tBodies.length) return;
  var rows = roster.tBodies[0].rows;

  // The roster: our own row marked; other players' pages are closed to us
  // (403), so their names are no longer links (an admin keeps them all).
  try {
    if (me) {
      each(roster.tBodies[0].querySelectorAll('a[href^="/p/"]'), function (a) {
        var row = a.closest("tr");
        if (a.getAttribute("href") === me.page) {
          row.classList.add("me");
          row.setAttribute("aria-current", "true");
        } else if (!me.admin) {
          var name = document.createElement("span");
          name.className = "name";
          while (a.firstChild) name.appendChild(a.firstChild);
          a.replaceWith(name);
        }
      });
    }
  } catch (e) {
    // Names stay links.
  }

  // The search box: the name, the columns marked data-filter, and the
  // row's data-f (filter columns the roster does not show).
  try {
    var box = document.getElementById("roster-search");
    var input = document.getElementById("roster-q");
    var count = document.getElementById("roster-count");
    if (!box || !input || !count) return;
    var columns = [1];
    each(roster.tHead ? roster.tHead.rows[0].cells : [], function (th, i) {
      if (th.hasAttribute("data-filter")) columns.push(i);
    });
    var texts = null;
    var search = function () {
      if (!texts) {
        texts = [];
        each(rows, function (tr) {
          var parts = [tr.getAttribute("data-f") || ""];
          each(columns, function (i) {
            if (tr.cells[i]) parts.push(tr.cells[i].textContent);
          });
          texts.push(fold(parts.join(" ")));
        });
      }
      var terms = fold(input.value).split(/\s+/).filter(Boolean);
      var shown = 0;
      each(rows, function (tr, i) {
        var hit = terms.every(function (t) { return texts[i].indexOf(t) >= 0; });
        tr.hidden = !hit;
        if (hit) shown++;
      });
      if (!terms.length) {
        count.textContent = "";
      } else if (shown === 0) {
        count.textContent = count.getAttribute("data-none");
      } else if (shown === 1) {
        count.textContent = count.getAttribute("data-one");
      } else {
        count.textContent = count.getAttribute("data-many").replace("{n}", shown);
      }
    };
    input.addEventListener("input", search);
    box.hidden = false;
    // A value the browser restored (back button) filters at once.
    if (input.value) search();
  } catch (e) {
    // The whole roster stays.
  }
})();
