// Windsock UI: a small amount of vanilla JavaScript. Every change goes to
// the REST API under /api/v1 with the session cookie and the page's CSRF
// token; API errors (problem+json) are shown in the alert region.
(function () {
  "use strict";

  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  // showAlert puts a message in the role="alert" region, where screen
  // readers announce it.
  function showAlert(message, kind) {
    var region = document.getElementById("alerts");
    if (!region) { window.alert(message); return; }
    var div = document.createElement("div");
    div.className = "alert" + (kind ? " " + kind : "");
    div.setAttribute("data-testid", "alert");
    var text = document.createElement("span");
    text.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "secondary small close";
    close.textContent = "Dismiss";
    close.addEventListener("click", function () { div.remove(); });
    div.appendChild(text);
    div.appendChild(close);
    region.appendChild(div);
  }

  function clearAlerts() {
    var region = document.getElementById("alerts");
    if (region) { region.textContent = ""; }
  }

  // api sends a request to the REST API and resolves with the decoded
  // JSON body (null for 204). A failure is shown and rejects.
  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    var token = csrfToken();
    if (token) { headers["X-CSRF-Token"] = token; }
    var opts = { method: method, headers: headers, credentials: "same-origin" };
    if (body !== undefined && body !== null) {
      headers["Content-Type"] = "application/json";
      opts.body = typeof body === "string" ? body : JSON.stringify(body);
    }
    return fetch(path, opts).then(function (resp) {
      if (resp.status === 204) { return null; }
      var ctype = resp.headers.get("Content-Type") || "";
      var parsed = ctype.indexOf("json") >= 0 ? resp.json().catch(function () { return null; }) : resp.text();
      return parsed.then(function (data) {
        if (resp.ok) { return data; }
        var msg = "Request failed: " + resp.status + " " + resp.statusText;
        if (data && typeof data === "object" && (data.detail || data.title)) {
          msg = (data.title || "Error") + ": " + (data.detail || "") + " (" + resp.status + ")";
        }
        if (resp.status === 401) { msg += " - your session may have expired; log in again."; }
        var err = new Error(msg);
        err.status = resp.status;
        err.problem = data;
        throw err;
      });
    }, function (netErr) {
      throw new Error("Network error: " + netErr.message);
    }).catch(function (err) {
      showAlert(err.message);
      throw err;
    });
  }

  // poll calls fn every ms milliseconds while the page is visible, one
  // call at a time (fn returns a promise); it returns a stop function.
  function poll(fn, ms) {
    var stopped = false, timer = null;
    function tick() {
      if (stopped) { return; }
      if (document.hidden) { timer = setTimeout(tick, ms); return; }
      Promise.resolve().then(fn).catch(function () {}).then(function () {
        if (!stopped) { timer = setTimeout(tick, ms); }
      });
    }
    timer = setTimeout(tick, ms);
    return function () { stopped = true; clearTimeout(timer); };
  }

  // formBody turns a form's named fields into a JSON object:
  // data-type="number" | "bool" | "json" converts the value; empty fields
  // with data-omit-empty are left out (e.g. a password kept as it is). In
  // a form with data-changes-of="NAME", the checkboxes named NAME
  // ("action:resource" values; actions have no colon, resources may, as
  // "DAG:etl") send only how they differ from the page as rendered:
  // ticked ones in "grant", unticked ones in "revoke", as the API's
  // {action: {name}, resource: {name}}. A role with thousands of
  // permissions is then saved in a small request.
  function formBody(form) {
    var out = {};
    var changes = form.getAttribute("data-changes-of");
    if (changes) { out.grant = []; out.revoke = []; }
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.name === "csrf_token" || el.type === "submit" || el.type === "button") { return; }
      var type = el.getAttribute("data-type") || "";
      var v;
      if (changes && el.name === changes) {
        if (el.checked === el.defaultChecked) { return; }
        var cut = el.value.indexOf(":");
        (el.checked ? out.grant : out.revoke).push({ action: { name: el.value.slice(0, cut) }, resource: { name: el.value.slice(cut + 1) } });
        return;
      }
      if (el.type === "checkbox") {
        if (type === "list") {
          if (!out[el.name]) { out[el.name] = []; }
          if (el.checked) { out[el.name].push(el.value); }
          return;
        }
        v = el.checked;
      } else if (el.tagName === "SELECT" && el.multiple) {
        v = Array.prototype.filter.call(el.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; });
      } else {
        v = el.value;
        if (v === "" && el.hasAttribute("data-omit-empty")) { return; }
        if (type === "number") { v = v === "" ? null : Number(v); }
        if (type === "bool") { v = v === "true"; }
        if (type === "json") {
          try { v = v === "" ? {} : JSON.parse(v); } catch (e) { throw new Error(el.name + " is not valid JSON: " + e.message); }
        }
        if (type === "list") { v = v.split(",").map(function (s) { return s.trim(); }).filter(Boolean); }
        if (type === "names") {
          v = v.split(",").map(function (s) { return s.trim(); }).filter(Boolean)
            .map(function (s) { return { name: s }; });
        }
      }
      var path = el.name.split(".");
      var o = out;
      for (var i = 0; i < path.length - 1; i++) { o = o[path[i]] = o[path[i]] || {}; }
      o[path[path.length - 1]] = v;
    });
    return out;
  }

  function after(el, data) {
    var next = el.getAttribute("data-next");
    if (next) { window.location.assign(next); return; }
    if (el.hasAttribute("data-reload")) { window.location.reload(); return; }
    var msg = el.getAttribute("data-success");
    if (msg) { showAlert(msg, "info"); }
    el.dispatchEvent(new CustomEvent("windsock:done", { bubbles: true, detail: data }));
  }

  // Buttons with data-api-method and data-api-path call the API; an
  // optional data-api-body is sent as JSON, data-confirm asks first.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-api-method]");
    if (!btn || btn.tagName === "FORM") { return; }
    ev.preventDefault();
    var confirmText = btn.getAttribute("data-confirm");
    if (confirmText && !window.confirm(confirmText)) { return; }
    clearAlerts();
    btn.disabled = true;
    api(btn.getAttribute("data-api-method"), btn.getAttribute("data-api-path"), btn.getAttribute("data-api-body"))
      .then(function (data) { after(btn, data); })
      .catch(function () {})
      .then(function () { btn.disabled = false; });
  });

  // Forms with data-api-method send their fields as JSON to data-api-path.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.hasAttribute("data-api-method")) { return; }
    ev.preventDefault();
    clearAlerts();
    var body;
    try { body = formBody(form); } catch (e) { showAlert(e.message); return; }
    var path = form.getAttribute("data-api-path");
    var key = form.getAttribute("data-api-path-field");
    if (key) { path += encodeURIComponent(body[key] === undefined ? "" : body[key]); }
    var submit = form.querySelector("[type=submit]");
    if (submit) { submit.disabled = true; }
    api(form.getAttribute("data-api-method"), path, body)
      .then(function (data) { after(form, data); })
      .catch(function () {})
      .then(function () { if (submit) { submit.disabled = false; } });
  });

  // Pause toggles ([data-pause-dag]): aria-pressed="true" means the DAG
  // is active (unpaused), as Airflow's switch is on for an unpaused DAG.
  document.addEventListener("click", function (ev) {
    var t = ev.target.closest("[data-pause-dag]");
    if (!t) { return; }
    ev.preventDefault();
    var dag = t.getAttribute("data-pause-dag");
    var active = t.getAttribute("aria-pressed") === "true";
    t.disabled = true;
    api("PATCH", "/api/v1/dags/" + encodeURIComponent(dag) + "?update_mask=is_paused", { is_paused: active })
      .then(function (d) {
        var on = !(d && d.is_paused);
        t.setAttribute("aria-pressed", on ? "true" : "false");
        var label = t.querySelector(".sr-only");
        if (label) { label.textContent = (on ? "Pause DAG " : "Unpause DAG ") + dag; }
        t.title = on ? "Active: click to pause" : "Paused: click to unpause";
      })
      .catch(function () {})
      .then(function () { t.disabled = false; });
  });

  // Live regions ([data-live] with an id): while one shows an active state
  // (a run or task queued, running, waiting for a retry...), it is fetched
  // again from the page's own URL every 3 s and replaced in place: no full
  // reload, and the rest of the page (forms, scroll) stays as it is. An
  // action done on the page starts the polling again.
  var ACTIVE = [".state-running", ".state-queued", ".state-scheduled", ".state-up_for_retry",
    ".state-up_for_reschedule", ".state-restarting", ".state-deferred"]
    .map(function (c) { return c + ":not(.zero)"; }).join(", ");
  var livePolls = {};

  function isActive(region) { return region.querySelector(ACTIVE) !== null; }

  function watch(region) {
    if (livePolls[region.id]) { return; }
    var stop = poll(function () {
      // Leave the region alone while the keyboard is in it.
      if (region.contains(document.activeElement) && document.activeElement !== document.body) { return null; }
      return fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (resp) {
          if (!resp.ok) { throw new Error("HTTP " + resp.status); }
          return resp.text();
        })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(region.id);
          if (fresh) { region.innerHTML = fresh.innerHTML; }
          if (!fresh || !isActive(region)) { stop(); delete livePolls[region.id]; }
        });
    }, 3000);
    livePolls[region.id] = stop;
  }

  function watchAll(force) {
    Array.prototype.forEach.call(document.querySelectorAll("[data-live][id]"), function (region) {
      if (force || isActive(region)) { watch(region); }
    });
  }
  watchAll(false);
  document.addEventListener("windsock:done", function () { watchAll(true); });

  window.Windsock = { api: api, poll: poll, showAlert: showAlert, clearAlerts: clearAlerts, formBody: formBody };
})();
