// Windsock DAG and task-instance pages: collapsible task groups, live
// refresh of the grid, graph and task instance while something runs, the
// trigger and clear forms, and the task log that follows a running try.
// Every change goes through the REST API (Windsock.api, app.js).
(function () {
  "use strict";

  var POLL_MS = 3000;
  var LOG_POLL_MS = 2000;

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // getJSON reads a URL quietly: polling failures are not worth an alert
  // each time; the caller decides.
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (resp) {
        return resp.json().catch(function () { return null; }).then(function (data) {
          return { status: resp.status, ok: resp.ok, data: data };
        });
      });
  }

  // ---- Grid: collapsible groups ----------------------------------------

  // Groups are open unless listed as collapsed; mapped tasks are closed
  // unless listed as expanded (their index rows).
  function collapsedKey(dagID) { return "windsock.grid.collapsed." + dagID; }
  function expandedKey(dagID) { return "windsock.grid.expanded." + dagID; }

  function loadList(key) {
    try { return JSON.parse(window.localStorage.getItem(key) || "[]"); } catch (e) { return []; }
  }

  function saveList(key, ids) {
    try { window.localStorage.setItem(key, JSON.stringify(ids)); } catch (e) { /* private mode */ }
  }

  function asSet(ids) {
    var set = {};
    ids.forEach(function (id) { set[id] = true; });
    return set;
  }

  // applyCollapsed hides the rows inside collapsed groups and the index
  // rows of mapped tasks not expanded, and sets each toggle's
  // aria-expanded.
  function applyCollapsed(grid) {
    if (!grid) { return; }
    var dagID = grid.getAttribute("data-dag-id");
    var closed = asSet(loadList(collapsedKey(dagID)));
    var open = asSet(loadList(expandedKey(dagID)));
    $all(".grid-toggle", grid).forEach(function (b) {
      b.setAttribute("aria-expanded", closed[b.getAttribute("data-group")] ? "false" : "true");
    });
    $all(".grid-expand", grid).forEach(function (b) {
      b.setAttribute("aria-expanded", open[b.getAttribute("data-mapped")] ? "true" : "false");
    });
    $all("tr[data-groups]", grid).forEach(function (tr) {
      var hidden = tr.getAttribute("data-groups").split(" ").some(function (g) { return closed[g]; });
      var of = tr.getAttribute("data-mapped-of");
      tr.classList.toggle("collapsed", hidden || (of !== null && !open[of]));
    });
  }

  // toggleIn flips id's membership of the list stored under key.
  function toggleIn(key, id, member) {
    var ids = loadList(key).filter(function (x) { return x !== id; });
    if (!member) { ids.push(id); }
    saveList(key, ids);
  }

  document.addEventListener("click", function (ev) {
    var b = ev.target.closest(".grid-toggle, .grid-expand");
    if (!b) { return; }
    var grid = b.closest("#grid");
    var dagID = grid.getAttribute("data-dag-id");
    var expanded = b.getAttribute("aria-expanded") === "true";
    if (b.classList.contains("grid-expand")) {
      toggleIn(expandedKey(dagID), b.getAttribute("data-mapped"), expanded);
    } else {
      toggleIn(collapsedKey(dagID), b.getAttribute("data-group"), !expanded);
    }
    applyCollapsed(grid);
  });

  // ---- Grid: live refresh ----------------------------------------------

  function startGridPolling() {
    var live = document.getElementById("grid-live");
    if (!live) { return; }
    applyCollapsed($("#grid", live));
    if (live.getAttribute("data-active") !== "true") { return; }
    var stop = Windsock.poll(function () {
      var cur = document.getElementById("grid-live");
      var url = cur.getAttribute("data-live-url");
      return fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (resp) {
        if (!resp.ok) { throw new Error("grid refresh: " + resp.status); }
        return resp.text();
      }).then(function (html) {
        var wrap = $(".grid-wrap", cur);
        var top = wrap ? wrap.scrollTop : 0, left = wrap ? wrap.scrollLeft : 0;
        var focusedID = document.activeElement && document.activeElement.getAttribute("data-group");
        var tmp = document.createElement("div");
        tmp.innerHTML = html;
        var next = tmp.firstElementChild;
        if (!next || next.id !== "grid-live") { return; }
        cur.replaceWith(next);
        applyCollapsed($("#grid", next));
        var nwrap = $(".grid-wrap", next);
        if (nwrap) { nwrap.scrollTop = top; nwrap.scrollLeft = left; }
        if (focusedID) {
          var again = $('.grid-toggle[data-group="' + CSS.escape(focusedID) + '"]', next);
          if (again) { again.focus(); }
        }
        if (next.getAttribute("data-active") !== "true") {
          stop();
          // The selected run's panel shows states that just changed.
          if (document.getElementById("run-panel")) { window.location.reload(); }
        }
      });
    }, POLL_MS);
  }

  // ---- Graph: live states ----------------------------------------------

  function startGraphPolling() {
    var graph = document.getElementById("graph");
    if (!graph || graph.getAttribute("data-active") !== "true") { return; }
    var url = graph.getAttribute("data-states-url");
    if (!url) { return; }
    var stop = Windsock.poll(function () {
      return getJSON(url).then(function (r) {
        if (!r.ok || !r.data) { return; }
        var states = r.data.states || {};
        $all(".node", graph).forEach(function (node) {
          var id = node.getAttribute("data-task-id");
          if (!(id in states)) { return; }
          var st = states[id] || "none";
          var rect = $(".node-box", node);
          rect.setAttribute("class", "node-box state-" + st);
          var title = $("title", node);
          if (title) { title.textContent = title.textContent.replace(/: [^:]*$/, ": " + (st === "none" ? "no status" : st)); }
        });
        var rs = document.getElementById("graph-run-state");
        if (rs) { rs.className = "state state-" + r.data.run_state + " label"; rs.textContent = r.data.run_state; }
        if (!r.data.active) { stop(); }
      });
    }, POLL_MS);
  }

  // ---- Trigger ---------------------------------------------------------

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.hasAttribute("data-trigger")) { return; }
    ev.preventDefault();
    var area = form.elements.conf;
    var errEl = document.getElementById("trigger-conf-error");
    var conf;
    try {
      conf = area.value.trim() === "" ? {} : JSON.parse(area.value);
      if (conf === null || typeof conf !== "object" || Array.isArray(conf)) {
        throw new Error("the configuration must be a JSON object, such as {\"key\": \"value\"}");
      }
    } catch (e) {
      area.setAttribute("aria-invalid", "true");
      errEl.textContent = "Invalid JSON: " + e.message;
      errEl.hidden = false;
      area.focus();
      return;
    }
    area.removeAttribute("aria-invalid");
    errEl.hidden = true;
    errEl.textContent = "";
    var body = { conf: conf };
    var runID = form.elements.dag_run_id.value.trim();
    if (runID) { body.dag_run_id = runID; }
    var note = form.elements.note.value.trim();
    if (note) { body.note = note; }
    var btn = form.querySelector("[type=submit]");
    btn.disabled = true;
    Windsock.clearAlerts();
    Windsock.api("POST", form.getAttribute("data-api-path"), body).then(function (run) {
      window.location.assign(form.getAttribute("data-grid-path") + "?run_id=" + encodeURIComponent(run.dag_run_id));
    }).catch(function () {}).then(function () { btn.disabled = false; });
  });

  // ---- Clear: preview (dry run), then confirm ---------------------------

  function clearBody(form, dryRun) {
    var body = {
      dry_run: dryRun,
      dag_run_id: form.getAttribute("data-run-id"),
      only_failed: !!(form.elements.only_failed && form.elements.only_failed.checked),
      reset_dag_runs: true
    };
    var task = form.getAttribute("data-task-id");
    if (task) {
      var index = form.getAttribute("data-map-index");
      // One instance of a mapped task: Airflow's [task_id, map_index] pair.
      body.task_ids = index ? [[task, parseInt(index, 10)]] : [task];
      body.include_downstream = !!(form.elements.include_downstream && form.elements.include_downstream.checked);
      body.include_upstream = !!(form.elements.include_upstream && form.elements.include_upstream.checked);
    }
    return body;
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.hasAttribute("data-clear")) { return; }
    ev.preventDefault();
    var preview = $(".clear-preview", form);
    Windsock.clearAlerts();
    Windsock.api("POST", form.getAttribute("data-api-path"), clearBody(form, true)).then(function (data) {
      var tis = (data && data.task_instances) || [];
      var list = $(".clear-list", form);
      list.textContent = "";
      tis.forEach(function (ti) {
        var li = document.createElement("li");
        li.textContent = ti.task_id + " (" + ti.dag_run_id + ")";
        list.appendChild(li);
      });
      $(".clear-summary", form).textContent = tis.length === 0
        ? "Nothing to clear with these options."
        : tis.length + " task instance" + (tis.length === 1 ? "" : "s") + " will be cleared:";
      $("[data-clear-confirm]", form).disabled = tis.length === 0;
      preview.hidden = false;
      var summary = $(".clear-summary", form);
      summary.setAttribute("tabindex", "-1");
      summary.focus();
    }).catch(function () {});
  });

  document.addEventListener("click", function (ev) {
    var confirmBtn = ev.target.closest("[data-clear-confirm]");
    var cancelBtn = ev.target.closest("[data-clear-cancel]");
    if (!confirmBtn && !cancelBtn) { return; }
    var form = (confirmBtn || cancelBtn).closest("form[data-clear]");
    if (cancelBtn) { $(".clear-preview", form).hidden = true; return; }
    confirmBtn.disabled = true;
    Windsock.api("POST", form.getAttribute("data-api-path"), clearBody(form, false)).then(function () {
      window.location.reload();
    }).catch(function () { confirmBtn.disabled = false; });
  });

  // ---- Task instance: live state -----------------------------------------

  function startTIPolling() {
    var ti = document.getElementById("ti");
    if (!ti || ti.getAttribute("data-active") !== "true") { return; }
    var try0 = ti.getAttribute("data-try");
    var stop = Windsock.poll(function () {
      return getJSON(ti.getAttribute("data-api-path")).then(function (r) {
        if (!r.ok || !r.data) { return; }
        var st = r.data.state || "none";
        var el = document.getElementById("ti-state");
        el.className = "state state-" + st + " label";
        el.textContent = st === "none" ? "no status" : st;
        var finished = ["success", "failed", "skipped", "upstream_failed", "removed"].indexOf(st) >= 0;
        if (finished || String(r.data.try_number) !== try0) {
          stop();
          // New try or final state: the tries, times and log tabs change.
          window.setTimeout(function () { window.location.reload(); }, finished ? LOG_POLL_MS : 0);
        }
      });
    }, POLL_MS);
  }

  // ---- Task log: follow and search ---------------------------------------

  function tokenEnded(token) {
    try {
      var p = token.split(".")[0].replace(/-/g, "+").replace(/_/g, "/");
      while (p.length % 4) { p += "="; }
      return !!JSON.parse(window.atob(p)).end_of_log;
    } catch (e) { return false; }
  }

  function startLog() {
    var pre = document.getElementById("log");
    if (!pre) { return; }
    var base = pre.getAttribute("data-log-url");
    var live = pre.getAttribute("data-live") === "true";
    var text = "", token = "", started = false;
    var search = document.getElementById("log-search");
    var matchesEl = document.getElementById("log-matches");
    var follow = document.getElementById("log-follow");
    var current = -1;

    function render() {
      var q = search ? search.value : "";
      pre.textContent = "";
      if (!q) {
        pre.textContent = text || (started ? "(empty log)" : "");
        if (matchesEl) { matchesEl.textContent = ""; }
        return;
      }
      var frag = document.createDocumentFragment();
      var hay = text.toLowerCase(), needle = q.toLowerCase();
      var at = 0, n = 0;
      for (;;) {
        var i = hay.indexOf(needle, at);
        if (i < 0) { break; }
        frag.appendChild(document.createTextNode(text.slice(at, i)));
        var m = document.createElement("mark");
        m.textContent = text.slice(i, i + needle.length);
        frag.appendChild(m);
        at = i + needle.length;
        n++;
      }
      frag.appendChild(document.createTextNode(text.slice(at)));
      pre.appendChild(frag);
      if (matchesEl) { matchesEl.textContent = n === 1 ? "1 match" : n + " matches"; }
      current = -1;
    }

    function next() {
      var marks = $all("mark", pre);
      if (marks.length === 0) { return; }
      if (current >= 0 && marks[current]) { marks[current].classList.remove("current"); }
      current = (current + 1) % marks.length;
      marks[current].classList.add("current");
      marks[current].scrollIntoView({ block: "center" });
    }

    if (search) {
      search.addEventListener("input", function () {
        render();
        var first = $("mark", pre);
        if (first) { next(); }
      });
      search.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter") { ev.preventDefault(); next(); }
      });
    }

    function fetchMore() {
      var url = base + (token ? (base.indexOf("?") < 0 ? "?" : "&") + "token=" + encodeURIComponent(token) : "");
      return getJSON(url).then(function (r) {
        if (r.status === 404) {
          pre.textContent = live ? "Waiting for the log\u2026" : "No log was found for this try.";
          pre.setAttribute("aria-busy", "false");
          return !live;
        }
        if (!r.ok || !r.data) {
          pre.textContent = "Could not read the log (" + r.status + (r.data && r.data.detail ? ": " + r.data.detail : "") + ").";
          pre.setAttribute("aria-busy", "false");
          return true;
        }
        started = true;
        var atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
        if (r.data.content) { text += r.data.content; }
        token = r.data.continuation_token || token;
        render();
        pre.setAttribute("aria-busy", "false");
        if ((follow ? follow.checked : true) && atBottom) { pre.scrollTop = pre.scrollHeight; }
        if (tokenEnded(token)) { return true; }
        // A finished try's log may come in several chunks: read on at
        // once while chunks come; a running try's is polled.
        if (!live) { return r.data.content ? "now" : true; }
        return false;
      });
    }

    // Read the whole log now (chunk after chunk), then keep following it
    // while the try runs.
    function loop() {
      // The grid's details panel may replace this log: stop with it.
      if (!pre.isConnected) { return; }
      fetchMore().then(function (done) {
        if (done === "now") { loop(); return; }
        if (!done) { window.setTimeout(loop, LOG_POLL_MS); }
      }).catch(function () { window.setTimeout(loop, LOG_POLL_MS); });
    }
    loop();
  }

  // The grid's details panel (grid_details.js) starts the log it shows.
  window.WindsockDAG = { startLog: startLog };

  function init() {
    startGridPolling();
    startGraphPolling();
    startTIPolling();
    startLog();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
