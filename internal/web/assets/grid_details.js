// Windsock grid details panel: a click on a run's duration bar or a task
// instance's cell shows its details beside the grid (state, dates, try,
// operator, log, XCom, rendered fields, actions) without leaving the page,
// as Airflow 2.10's grid does. The server renders the panel (?panel=1);
// this script only fetches it and puts it in place, and fetches it again
// every few seconds while the run or try it shows is not finished. A
// modified click (new tab, new window) still opens the full page.
(function () {
  "use strict";

  var panel = null;
  var pending = 0;

  function panelURL(href) {
    var u = new URL(href, window.location.href);
    u.searchParams.set("panel", "1");
    return u.pathname + u.search;
  }

  function markSelected(link) {
    Array.prototype.forEach.call(document.querySelectorAll("#grid .selected"), function (el) {
      el.classList.remove("selected");
    });
    link.classList.add("selected");
  }

  // remember keeps what the panel shows in the address (run_id and
  // task_id, as Airflow's grid does), so a reload or a shared link opens
  // it again.
  function remember(href) {
    var target = new URL(href, window.location.href);
    var u = new URL(window.location.href);
    var m = target.pathname.match(/\/grid\/([^/]+)\/([^/]+)$/);
    if (m) {
      u.searchParams.set("run_id", decodeURIComponent(m[1]));
      u.searchParams.set("task_id", decodeURIComponent(m[2]));
      var mi = target.searchParams.get("map_index");
      if (mi !== null) { u.searchParams.set("map_index", mi); } else { u.searchParams.delete("map_index"); }
    } else {
      u.searchParams.set("run_id", target.searchParams.get("run_id") || "");
      u.searchParams.delete("task_id");
      u.searchParams.delete("map_index");
    }
    window.history.replaceState(null, "", u.pathname + u.search);
  }

  function forget() {
    var u = new URL(window.location.href);
    ["run_id", "task_id", "map_index"].forEach(function (k) { u.searchParams.delete(k); });
    window.history.replaceState(null, "", u.pathname + u.search);
  }

  // REFRESH_MS is how often a panel showing a run or try that is not
  // finished is fetched again.
  var REFRESH_MS = 3000;
  var stopRefresh = null;

  function fetchPanel(href) {
    return fetch(panelURL(href), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (resp) {
        return resp.text().then(function (html) { return { ok: resp.ok, status: resp.status, html: html }; });
      });
  }

  // signature is what a refresh compares: the shown item's state, try and
  // whether it is active. The panel is replaced only when it changed, so
  // that a running try's log (streamed on its own) is not restarted every
  // few seconds.
  // Only the state labels' text counts: the sections marked with data-try
  // and data-active also hold a running item's duration, which changes
  // every second.
  function signature(root) {
    var text = ["#ti-state", "#run-state"].map(function (sel) {
      var el = root.querySelector(sel);
      return el ? el.textContent.trim() : "";
    });
    var attrs = [["[data-try]", "data-try"], ["[data-active]", "data-active"]].map(function (p) {
      var el = root.querySelector(p[0]);
      return el ? el.getAttribute(p[1]) || "" : "";
    });
    return text.concat(attrs).join("#");
  }

  function isActive(root) { return root.querySelector('[data-active="true"]') !== null; }

  function halt() {
    if (stopRefresh) { stopRefresh(); stopRefresh = null; }
    if (panel) { panel.removeAttribute("data-refreshing"); }
  }

  // refresh fetches the panel of href again while what it shows is not
  // finished and replaces it when its state changed; it stops once the
  // state is final, or when the panel is closed or shows something else.
  function refresh(href, ticket) {
    halt();
    panel.setAttribute("data-refreshing", "true");
    stopRefresh = window.Windsock.poll(function () {
      return fetchPanel(href).then(function (r) {
        if (ticket !== pending || panel.hidden) { halt(); return; }
        if (!r.ok) { return; } // try again at the next tick
        var doc = new DOMParser().parseFromString(r.html, "text/html");
        if (signature(doc.body) !== signature(panel)) { fill(href, doc, false); }
        if (!isActive(doc.body)) { halt(); }
      });
    }, REFRESH_MS);
  }

  // fill puts a fetched panel in place. Same-origin HTML rendered (and
  // escaped) by the server's templates; the content security policy keeps
  // any script in it from running. first is set when the panel was just
  // opened (focus goes to its heading), not when a refresh replaced it.
  function fill(href, doc, first) {
    panel.replaceChildren.apply(panel, Array.prototype.slice.call(doc.body.childNodes).map(function (n) {
      return document.importNode(n, true);
    }));
    var close = document.createElement("button");
    close.type = "button";
    close.className = "secondary details-close";
    close.setAttribute("data-testid", "details-close");
    close.textContent = "Close details";
    close.addEventListener("click", function () { halt(); panel.hidden = true; panel.replaceChildren(); forget(); });
    var full = document.createElement("a");
    full.href = href;
    full.className = "details-full";
    full.setAttribute("data-testid", "details-full-page");
    full.textContent = "Open as a page";
    panel.insertBefore(full, panel.firstChild);
    panel.insertBefore(close, panel.firstChild);
    if (window.WindsockDAG && document.getElementById("log")) { window.WindsockDAG.startLog(); }
    if (!first) { return; }
    var heading = panel.querySelector("h2");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
    if (window.matchMedia("(max-width: 640px)").matches) { panel.scrollIntoView({ block: "start" }); }
  }

  function show(href) {
    var ticket = ++pending;
    halt();
    panel.hidden = false;
    panel.setAttribute("aria-busy", "true");
    fetchPanel(href)
      .then(function (r) {
        if (ticket !== pending) { return; } // a later click won
        panel.setAttribute("aria-busy", "false");
        if (!r.ok) {
          panel.textContent = "Could not load the details (" + r.status + ").";
          return;
        }
        var doc = new DOMParser().parseFromString(r.html, "text/html");
        fill(href, doc, true);
        if (isActive(panel)) { refresh(href, ticket); }
      })
      .catch(function () {
        if (ticket === pending) {
          panel.setAttribute("aria-busy", "false");
          panel.textContent = "Could not load the details.";
        }
      });
  }

  document.addEventListener("click", function (ev) {
    if (!panel || ev.defaultPrevented || ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey) { return; }
    // Mapped cells open their instances' list (a page of its own).
    var link = ev.target.closest("#grid a.cell:not(.mapped), #grid a.run-bar");
    if (!link) { return; }
    ev.preventDefault();
    markSelected(link);
    remember(link.getAttribute("href"));
    show(link.getAttribute("href"));
  });

  // A grid address naming a task instance (run_id and task_id) opens its
  // details at once.
  function init() {
    panel = document.getElementById("details-panel");
    var grid = document.getElementById("grid");
    var q = new URLSearchParams(window.location.search);
    if (!panel || !grid || !q.get("run_id") || !q.get("task_id")) { return; }
    var href = window.location.pathname + "/" + encodeURIComponent(q.get("run_id")) + "/" + encodeURIComponent(q.get("task_id"));
    if (q.get("map_index") !== null) { href += "?map_index=" + encodeURIComponent(q.get("map_index")); }
    show(href);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
