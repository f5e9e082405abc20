// usermerge admin UI: small enhancements over pages that work without
// JavaScript. No framework, no build step.
"use strict";

// Server-rendered dialogs (info box, confirmations) become modal, so that
// focus stays inside them; Escape goes to the page the dialog came from.
function openDialogs() {
  document.querySelectorAll("dialog[data-modal]").forEach(function (d) {
    if (typeof d.showModal !== "function") return;
    d.removeAttribute("open");
    d.showModal();
    var first = d.querySelector("[autofocus]");
    if (first) first.focus();
    d.addEventListener("cancel", function (e) {
      e.preventDefault();
      if (d.dataset.cancel) window.location.assign(d.dataset.cancel);
    });
  });
}

// Search as you type: the Browse column reloads its list from the server
// (the same page, fragment=browse) while the person types.
function liveSearch() {
  document.querySelectorAll("input[data-live-search]").forEach(function (input) {
    var target = document.querySelector(input.dataset.liveSearch);
    var form = input.form;
    if (!target || !form || !window.fetch) return;
    var timer = 0, seq = 0;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var params = new URLSearchParams(new FormData(form));
        params.delete("offset");
        params.delete("info");
        params.delete("step");
        var page = form.getAttribute("action") + "?" + params.toString();
        params.set("fragment", "browse");
        var mine = ++seq;
        target.setAttribute("aria-busy", "true");
        fetch(form.getAttribute("action") + "?" + params.toString(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
          .then(function (resp) {
            if (resp.redirected || !resp.ok) { window.location.assign(page); return null; }
            return resp.text();
          })
          .then(function (html) {
            if (html === null || mine !== seq) return;
            target.innerHTML = html;
            target.removeAttribute("aria-busy");
            history.replaceState(null, "", page);
          })
          .catch(function () { target.removeAttribute("aria-busy"); });
      }, 200);
    });
  });
}

// The merge screen's selection buttons reload the page; keep its scroll
// position, so that the person stays where they were in the list.
function keepScroll() {
  var key = "usermerge-scroll";
  try {
    var saved = JSON.parse(sessionStorage.getItem(key) || "null");
    sessionStorage.removeItem(key);
    if (saved && saved.path === location.pathname) window.scrollTo(0, saved.y);
  } catch (e) { /* storage may be off */ }
  document.querySelectorAll("form[data-keep-scroll]").forEach(function (form) {
    var names = form.dataset.keepScroll.split(" ");
    form.addEventListener("submit", function (e) {
      if (e.submitter && names.indexOf(e.submitter.name) >= 0) {
        try { sessionStorage.setItem(key, JSON.stringify({ path: location.pathname, y: window.scrollY })); } catch (err) { /* ignore */ }
      }
    });
  });
}

// A freshly shown result (the merge preview) comes into view.
function showResult() {
  var el = document.querySelector("[data-show]");
  if (el && !document.querySelector("dialog[data-modal]")) {
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "start" });
  }
}

// "Select all on this page" ticks (or clears) the page's boxes at once
// instead of reloading the page, which is what it does without JavaScript.
function selectAll() {
  document.querySelectorAll("button[data-select-all]").forEach(function (btn) {
    var form = btn.form;
    if (!form) return;
    var boxes = function () { return form.querySelectorAll("input[type=checkbox][name='" + btn.dataset.selectAll + "']"); };
    var sync = function () {
      var all = boxes().length > 0;
      boxes().forEach(function (b) { if (!b.checked) all = false; });
      btn.textContent = all ? btn.dataset.labelNone : btn.dataset.labelAll;
      btn.value = all ? "none" : "all";
    };
    btn.addEventListener("click", function (e) {
      e.preventDefault();
      var tick = btn.value === "all";
      boxes().forEach(function (b) { b.checked = tick; });
      sync();
    });
    form.addEventListener("change", sync);
  });
}

// A merge that cannot be undone: its button works once the kept login is
// typed (the server checks it again).
function mustMatch() {
  document.querySelectorAll("input[data-must-match]").forEach(function (input) {
    var btn = document.querySelector(input.dataset.enables);
    if (!btn) return;
    var update = function () { btn.disabled = input.value.trim() !== input.dataset.mustMatch; };
    input.addEventListener("input", update);
    update();
  });
}

// A detection run in progress: its bar follows the run's status from the
// API; when the run ends the page reloads to show the new queue. Without
// the script the page offers a refresh link instead.
function followRun() {
  var box = document.querySelector("[data-run-poll]");
  if (!box || !box.dataset.runPoll || !window.fetch) return;
  var bar = document.getElementById("run-progress");
  var text = document.getElementById("run-text");
  var poll = function () {
    fetch(box.dataset.runPoll, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (run) {
        if (!run) return;
        if (run.status !== "running") { window.location.reload(); return; }
        var pct = run.total > 0 ? Math.min(100, Math.floor(run.done * 100 / run.total)) : 0;
        if (bar) { bar.value = pct; bar.textContent = pct + " %"; }
        if (text) {
          text.textContent = "Detection run " + run.id + " is running: " + (run.phase || "starting") +
            (run.total > 0 ? ", " + run.done.toLocaleString("en") + " of " + run.total.toLocaleString("en") : "") + ".";
        }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  };
  setTimeout(poll, 1000);
}

// A bulk merge in progress: its bar and counts follow the batch from the
// API every second; when the batch stops running the page reloads to show
// its report. Without the script the page refreshes itself (noscript).
function followBatch() {
  var box = document.querySelector("[data-batch-poll]");
  if (!box || !box.dataset.batchPoll || !window.fetch) return;
  var set = function (id, v) { var el = document.getElementById(id); if (el) el.textContent = v; };
  var n = function (v) { return (v || 0).toLocaleString("en"); };
  var left = function (s) {
    if (s === undefined || s === null) return "estimating…";
    if (s < 1) return "less than a second";
    if (s < 90) { var k = Math.ceil(s); return k + (k === 1 ? " second" : " seconds"); }
    if (s < 5400) { var m = Math.ceil(s / 60); return "about " + m + (m === 1 ? " minute" : " minutes"); }
    var h = Math.ceil(s / 3600); return "about " + h + (h === 1 ? " hour" : " hours");
  };
  var bar = document.getElementById("batch-progress");
  var poll = function () {
    fetch(box.dataset.batchPoll, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (b) {
        if (!b) { setTimeout(poll, 3000); return; }
        if (b.status !== box.dataset.batchStatus) { window.location.reload(); return; }
        var done = (b.merged || 0) + (b.refused || 0) + (b.cancelled || 0), of = b.rows;
        if (b.status === "reverting") { done = b.reverted || 0; of = b.merged || 0; }
        var pct = of > 0 ? Math.min(100, Math.floor(done * 100 / of)) : 0;
        if (bar) { bar.max = Math.max(of, 1); bar.value = done; bar.textContent = pct + " %"; }
        set("batch-of", n(of));
        set("batch-percent", pct);
        set("batch-done", n(done));
        set("batch-merged", n(b.merged));
        set("batch-refused", n(b.refused));
        set("batch-left", n(b.left));
        set("batch-time-left", left(b.seconds_left));
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  };
  setTimeout(poll, 1000);
}

document.addEventListener("DOMContentLoaded", function () {
  followBatch();
  followRun();
  selectAll();
  keepScroll();
  mustMatch();
  showResult();
  openDialogs();
  liveSearch();
});
