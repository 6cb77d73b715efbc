// The roster page (issue 17): the logged-in player's own row marked, other
// players' names no longer links (their pages are closed to a player), and
// the search box. Reads what site.js found (window.sheetgenMe). Never
// throws; without it the roster is whole, every name a link, no search box.
(function () {
  "use strict";

  function fold(s) {
    s = String(s).toLowerCase();
    return s.normalize ? s.normalize("NFD").replace(/[\u0300-\u036f]/g, "") : s;
  }

  function each(list, f) {
    for (var i = 0; i < list.length; i++) f(list[i], i);
  }

  var me = window.sheetgenMe || null;
  var roster = document.querySelector("table.roster");
  if (!roster || !roster.tBodies.length) return;
  var rows = roster.tBodies[0].rows;

  // Our own row marked; an admin keeps every link.
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
      // Nothing found: the message alone, no empty table header.
      var wrap = roster.closest(".table-wrap");
      if (wrap) wrap.hidden = shown === 0;
      if (window.sheetgenHints) window.sheetgenHints();
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
