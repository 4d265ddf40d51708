/* sourcetrace tables: a click (or Enter) on a heading of a table.sortable sorts its rows by
   that column, numbers as numbers; a second click reverses. No network, no innerHTML. */
(function () {
  "use strict";

  function value(cell) {
    var text = (cell ? cell.textContent : "").trim();
    var num = parseFloat(text.replace(/[%,\s]/g, ""));
    return /^[-+]?[\d.,]+\s*%?/.test(text) && !isNaN(num) ? num : text.toLowerCase();
  }

  function sort(table, index, th) {
    var body = table.tBodies[0];
    if (!body) { return; }
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th[aria-sort]").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a.cells[index]), y = value(b.cells[index]);
      var c = (typeof x === typeof y) ? (x < y ? -1 : x > y ? 1 : 0) : (typeof x === "number" ? -1 : 1);
      return ascending ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  function setup() {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      if (table.getAttribute("data-sortable-ready")) { return; }
      table.setAttribute("data-sortable-ready", "1");
      var head = table.tHead && table.tHead.rows[0];
      if (!head) { return; }
      Array.prototype.forEach.call(head.cells, function (th, index) {
        th.tabIndex = 0;
        th.classList.add("sort-h");
        th.title = "Sort by " + th.textContent.trim();
        th.addEventListener("click", function () { sort(table, index, th); });
        th.addEventListener("keydown", function (e) {
          if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(table, index, th); }
        });
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
}());
