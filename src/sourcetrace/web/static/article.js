/* sourcetrace article view: hover or select a mark to see its attribution, select a
   source to see all it said. No network, no innerHTML: cards are server-rendered and
   only cloned. Safe to load more than once (each .st-root is set up once). */
(function () {
  "use strict";

  function setup(root) {
    if (root.getAttribute("data-st-ready")) { return; }
    root.setAttribute("data-st-ready", "1");
    var text = root.querySelector(".st-text");
    var box = root.querySelector(".st-selected");
    var slot = root.querySelector(".st-slot");
    if (!text || !box || !slot) { return; }
    var cards = {};
    root.querySelectorAll(".st-cards .st-card").forEach(function (c) {
      cards[c.getAttribute("data-card")] = c;
    });
    var marks = {};
    text.querySelectorAll(".st-m[data-a]").forEach(function (m) {
      m.getAttribute("data-a").split(" ").forEach(function (id) {
        (marks[id] = marks[id] || []).push(m);
      });
    });
    var selected = null;   // {ids: [...], src: element or null}

    function clear() {
      root.querySelectorAll(".st-on").forEach(function (e) { e.classList.remove("st-on"); });
      text.classList.remove("st-dim");
      while (slot.firstChild) { slot.removeChild(slot.firstChild); }
      box.hidden = true;
    }

    function show(ids, src) {
      clear();
      ids.forEach(function (id) {
        (marks[id] || []).forEach(function (m) { m.classList.add("st-on"); });
        if (cards[id]) { slot.appendChild(cards[id].cloneNode(true)); }
      });
      if (src) { src.classList.add("st-on"); }
      if (ids.length) { text.classList.add("st-dim"); }
      box.hidden = !slot.firstChild;
    }

    function restore() {
      if (selected) { show(selected.ids, selected.src); } else { clear(); }
    }

    function innermost(mark) { return mark.getAttribute("data-a").split(" ")[0]; }

    function select(ids, src, mark) {
      var same = selected && selected.ids.join(" ") === ids.join(" ");
      selected = same ? null : {ids: ids, src: src};
      restore();
      // on a phone the selection is a sheet over the bottom of the screen: keep the mark above it
      if (selected && mark && window.getComputedStyle(box).position === "fixed") {
        var top = mark.getBoundingClientRect().top;
        if (top > window.innerHeight * 0.4) { window.scrollBy(0, top - window.innerHeight * 0.2); }
      }
    }

    text.addEventListener("mouseover", function (ev) {
      var m = ev.target.closest(".st-m[data-a]");
      if (m && !selected) { show([innermost(m)], null); }
    });
    text.addEventListener("mouseleave", function () { if (!selected) { clear(); } });
    text.addEventListener("click", function (ev) {
      var m = ev.target.closest(".st-m[data-a]");
      if (m) { select([innermost(m)], null, m); }
    });
    text.addEventListener("keydown", function (ev) {
      var m = ev.target.closest(".st-m[data-a]");
      if (m && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); select([innermost(m)], null, m); }
    });

    function sourceIds(li) {
      var sid = li.getAttribute("data-src"), ids = [];
      Object.keys(cards).forEach(function (id) {
        if (cards[id].getAttribute("data-source") === sid) { ids.push(id); }
      });
      return ids;
    }
    root.querySelectorAll(".st-sources li[data-src]").forEach(function (li) {
      li.addEventListener("click", function (ev) {
        if (ev.target.closest("details")) { return; }
        select(sourceIds(li), li);
      });
      li.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); select(sourceIds(li), li); }
      });
    });

    // a statement said without a source: scroll to it in the text and light it up
    function showStatement(li) {
      var marks = text.querySelectorAll('.st-as[data-s="' + li.getAttribute("data-s") + '"]');
      if (!marks.length) { return; }
      root.querySelectorAll(".st-flash").forEach(function (e) { e.classList.remove("st-flash"); });
      marks.forEach(function (m) { m.classList.add("st-flash"); });
      marks[0].scrollIntoView({block: "center", behavior: "smooth"});
      window.setTimeout(function () {
        marks.forEach(function (m) { m.classList.remove("st-flash"); });
      }, 2500);
    }
    root.querySelectorAll(".st-asserts li[data-s]").forEach(function (li) {
      li.addEventListener("click", function () { showStatement(li); });
      li.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); showStatement(li); }
      });
    });

    var close = box.querySelector(".st-close");
    if (close) { close.addEventListener("click", function () { selected = null; clear(); }); }
    root.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { selected = null; clear(); }
    });
  }

  function setupAll() { document.querySelectorAll(".st-root").forEach(setup); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setupAll);
  } else {
    setupAll();
  }
}());
