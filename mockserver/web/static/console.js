// The console: the journal live over SSE, filters, entry detail, sessions, clock, faults, scenarios
// and reset. Every action is a call to the control API (JSON, same origin), so its guard applies.
// Data is only ever written with textContent: nothing a request carried can become markup.
(function () {
  "use strict";
  var MAX_ENTRIES = 5000;
  var KNOWN = ["method", "path", "query", "status", "code", "headers", "time", "client", "stream", "open", "ended"];
  var $ = function (id) { return document.getElementById(id); };
  var main = $("main");
  var needsToken = main.getAttribute("data-needs-token") === "yes";
  var entries = [];       // oldest first, each {seq, entry}
  var seq = 0;
  var selected = null;
  var source = null;
  var sessionsTimer = null;

  // ------------------------------------------------------------------ calls

  function token() { return window.sessionStorage.getItem("nemo-mock-control-token"); }

  function headers(extra) {
    var out = extra || {};
    if (needsToken && token()) { out["Authorization"] = "Bearer " + token(); }
    return out;
  }

  function say(text, isError) {
    var node = $("action-status");
    node.textContent = text;
    node.className = isError ? "error" : "";
  }

  function call(method, path, body) {
    var init = { method: method, headers: headers({ "Accept": "application/json" }), cache: "no-store" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = JSON.parse(text); } catch (e) { data = text; }
        if (!response.ok) {
          var message = data && data.message ? data.message : ("HTTP " + response.status);
          throw new Error(message);
        }
        return data;
      });
    });
  }

  // ------------------------------------------------------------------ the journal

  function text(tag, value, className) {
    var node = document.createElement(tag);
    node.textContent = value === null || value === undefined ? "" : String(value);
    if (className) { node.className = className; }
    return node;
  }

  function clock(seconds) {
    if (typeof seconds !== "number") { return ""; }
    return new Date(seconds * 1000).toISOString().replace("T", " ").replace("Z", "");
  }

  function haystack(entry) {
    var out = [entry.path, entry.query];
    Object.keys(entry).forEach(function (key) {
      if (KNOWN.indexOf(key) < 0) { out.push(JSON.stringify(entry[key])); }
    });
    return out.join(" ");
  }

  function matches(entry) {
    var path = $("filter-path").value.trim();
    var status = $("filter-status").value.trim().toLowerCase();
    var code = $("filter-code").value.trim();
    var session = $("filter-session").value.trim();
    if (!$("filter-control").checked && entry.path.indexOf("/_mock") === 0) { return false; }
    if (path && entry.path.indexOf(path) < 0) { return false; }
    if (status) {
      var s = String(entry.status);
      if (/^[1-5]xx$/.test(status) ? s[0] !== status[0] : s !== status) { return false; }
    }
    if (code && String(entry.code) !== code) { return false; }
    if (session && haystack(entry).indexOf(session) < 0) { return false; }
    return true;
  }

  function row(item) {
    var entry = item.entry;
    var tr = document.createElement("tr");
    tr.setAttribute("data-seq", item.seq);
    tr.appendChild(text("td", clock(entry.time)));
    tr.appendChild(text("td", entry.method));
    var cell = document.createElement("td");
    var open = text("button", entry.path + (entry.query ? "?" + entry.query : ""));
    open.type = "button";
    open.className = "entry-open";
    open.addEventListener("click", function () { show(item); });
    cell.appendChild(open);
    tr.appendChild(cell);
    tr.appendChild(text("td", entry.status + (entry.open ? " (streaming)" : ""), "status-" + String(entry.status)[0]));
    tr.appendChild(text("td", entry.code === null || entry.code === undefined ? "–" : entry.code));
    tr.appendChild(text("td", entry.client));
    tr.addEventListener("click", function (event) { if (event.target === tr || event.target.tagName === "TD") { show(item); } });
    if (selected === item.seq) { tr.className = "selected"; }
    return tr;
  }

  function render() {
    var body = $("journal-rows");
    var fragment = document.createDocumentFragment();
    var shown = 0;
    for (var i = entries.length - 1; i >= 0; i--) {
      if (matches(entries[i].entry)) { fragment.appendChild(row(entries[i])); shown++; }
    }
    body.replaceChildren(fragment);
    $("journal-count").textContent = shown;
    $("journal-total").textContent = entries.length;
  }

  function sameStream(a, b) {
    return a.stream && b.stream && a.time === b.time && a.path === b.path && a.method === b.method &&
      a.client === b.client && a.session === b.session;
  }

  function add(list) {
    list.forEach(function (entry) {
      if (entry.stream && !entry.open) {  // a stream that ended: complete its open row in place
        for (var i = entries.length - 1; i >= 0; i--) {
          if (entries[i].entry.open && sameStream(entries[i].entry, entry)) { entries[i].entry = entry; return; }
        }
      }
      entries.push({ seq: ++seq, entry: entry });
    });
    if (entries.length > MAX_ENTRIES) { entries.splice(0, entries.length - MAX_ENTRIES); }
    render();
  }

  function show(item) {
    var entry = item.entry;
    selected = item.seq;
    var detail = $("entry-detail");
    $("entry-line").textContent = entry.method + " " + entry.path + (entry.query ? "?" + entry.query : "") +
      " → " + entry.status + (entry.code === null || entry.code === undefined ? "" : " (code " + entry.code + ")") +
      " at " + clock(entry.time) + " from " + (entry.client || "?");
    var rows = document.createDocumentFragment();
    Object.keys(entry.headers || {}).forEach(function (name) {
      var tr = document.createElement("tr");
      tr.appendChild(text("th", name));
      tr.appendChild(text("td", entry.headers[name]));
      rows.appendChild(tr);
    });
    $("entry-headers").replaceChildren(rows);
    var bodies = document.createDocumentFragment();
    var extra = Object.keys(entry).filter(function (key) {
      return KNOWN.indexOf(key) < 0 && entry[key] !== null && entry[key] !== undefined;
    });
    if (!extra.length) {
      bodies.appendChild(text("p", "The journal keeps no bodies for this entry (only its line and headers).", "empty"));
    }
    extra.forEach(function (key) {
      bodies.appendChild(text("h5", key));
      var value = entry[key];
      bodies.appendChild(text("pre", typeof value === "string" ? value : JSON.stringify(value, null, 2)));
    });
    $("entry-bodies").replaceChildren(bodies);
    detail.hidden = false;
    detail.focus();
    render();
  }

  function connect() {
    if (source) { source.close(); source = null; }
    $("feed-status").textContent = "connecting…";
    var onSnapshot = function (data) { entries = []; add(data); $("feed-status").textContent = "live"; };
    var onEntries = function (data) { add(data); scheduleSessions(); };
    var skipped = 0;
    var onSkipped = function (count) {
      skipped += count;
      $("feed-status").textContent = "live; " + skipped + " requests not shown under load (GET /_mock/journal has them all)";
    };
    if (!needsToken) {
      source = new EventSource("/_mock/ui/events");
      source.addEventListener("snapshot", function (event) { onSnapshot(JSON.parse(event.data)); });
      source.addEventListener("entries", function (event) { onEntries(JSON.parse(event.data)); });
      source.addEventListener("skipped", function (event) { onSkipped(JSON.parse(event.data)); });
      source.addEventListener("lost", function () { connect(); });
      source.onerror = function () { $("feed-status").textContent = "reconnecting…"; };
      return;
    }
    // EventSource sends no Authorization header: with a control token, read the same stream by fetch.
    var controller = new AbortController();
    source = { close: function () { controller.abort(); } };
    fetch("/_mock/ui/events", { headers: headers({ "Accept": "text/event-stream" }), signal: controller.signal })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) { throw new Error("the stream ended"); }
            buffer += decoder.decode(chunk.value, { stream: true });
            var end;
            while ((end = buffer.indexOf("\n\n")) >= 0) {
              var block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              var name = "message", data = "";
              block.split("\n").forEach(function (line) {
                if (line.indexOf("event: ") === 0) { name = line.slice(7); }
                else if (line.indexOf("data: ") === 0) { data += line.slice(6); }
              });
              if (name === "snapshot") { onSnapshot(JSON.parse(data)); }
              else if (name === "entries") { onEntries(JSON.parse(data)); }
              else if (name === "skipped") { onSkipped(JSON.parse(data)); }
              else if (name === "lost") { connect(); return; }
            }
            return pump();
          });
        }
        return pump();
      })
      .catch(function (error) {
        if (controller.signal.aborted) { return; }
        $("feed-status").textContent = "disconnected (" + error.message + ")";
      });
  }

  // ------------------------------------------------------------------ sessions, clock, faults

  function loadSessions() {
    fetch("/_mock/ui/sessions", { headers: headers({ "Accept": "text/html" }), cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        // The fragment is rendered by the server with every value escaped.
        var open = {};
        document.querySelectorAll("details.session[open]").forEach(function (node) { open[node.getAttribute("data-session-id")] = true; });
        var doc = new DOMParser().parseFromString("<div>" + html + "</div>", "text/html");
        var list = $("sessions-list");
        list.replaceChildren.apply(list, Array.prototype.slice.call(doc.body.firstChild.childNodes));
        list.querySelectorAll("details.session").forEach(function (node) { if (open[node.getAttribute("data-session-id")]) { node.open = true; } });
      })
      .catch(function (error) { $("sessions-list").replaceChildren(text("p", "Could not load the sessions: " + error.message, "error")); });
  }

  function scheduleSessions() {
    if (sessionsTimer === null) { sessionsTimer = window.setTimeout(function () { sessionsTimer = null; loadSessions(); }, 300); }
  }

  function showClock(data) {
    $("clock-now").textContent = clock(data.now);
    $("clock-now").setAttribute("data-now", data.now);
    $("clock-scale").textContent = data.time_scale;
  }

  function loadClock() { return call("GET", "/_mock/clock").then(showClock).catch(function (e) { say(e.message, true); }); }

  function advance(seconds) {
    return call("POST", "/_mock/clock/advance", { seconds: seconds })
      .then(function (data) { showClock(data); say("Clock advanced by " + seconds + " s."); loadSessions(); })
      .catch(function (e) { say("Could not advance the clock: " + e.message, true); });
  }

  function loadFaults() {
    return call("GET", "/_mock/faults").then(function (data) {
      var list = $("fault-list");
      var items = (data.rules || []).map(function (rule) { return text("li", JSON.stringify(rule), "fault-rule"); });
      if (!items.length) { items = [text("li", "none", "empty")]; }
      list.replaceChildren.apply(list, items);
    }).catch(function (e) { say(e.message, true); });
  }

  function faultRule() {
    var rule = { path: $("fault-path").value.trim() };
    var method = $("fault-method").value;
    if (method) { rule.method = method; }
    var times = $("fault-times").value.trim();
    rule.times = times === "" ? null : Number(times);
    var effect = document.querySelector("input[name=effect]:checked").value;
    if (effect === "respond") {
      rule.respond = { status: Number($("fault-respond-status").value) };
      var json = $("fault-respond-json").value.trim();
      if (json) { rule.respond.json = JSON.parse(json); }
    } else {
      var field = $("fault-" + effect + "-value");
      var value = field.value;
      if (effect === "sse" && value === "drop:K") { value = "drop:" + $("fault-sse-k").value; }
      rule[effect] = field.type === "number" ? Number(value) : value;
    }
    return rule;
  }

  function arm(rules) {
    var chain = Promise.resolve();
    rules.forEach(function (rule) { chain = chain.then(function () { return call("POST", "/_mock/faults", rule); }); });
    return chain.then(function () { say("Armed " + rules.length + " fault rule" + (rules.length === 1 ? "" : "s") + "."); })
      .catch(function (e) { say("Could not arm the fault: " + e.message, true); })
      .then(loadFaults);
  }

  function refreshAll() { loadSessions(); loadClock(); loadFaults(); }

  // ------------------------------------------------------------------ wiring

  $("filters").addEventListener("input", render);
  $("filters").addEventListener("submit", function (event) { event.preventDefault(); render(); });
  $("filters-clear").addEventListener("click", function () { $("filters").reset(); render(); });
  $("entry-close").addEventListener("click", function () { $("entry-detail").hidden = true; selected = null; render(); });
  $("sessions-refresh").addEventListener("click", loadSessions);
  document.querySelectorAll("button.advance").forEach(function (button) {
    button.addEventListener("click", function () { advance(Number(button.getAttribute("data-seconds"))); });
  });
  $("clock-form").addEventListener("submit", function (event) { event.preventDefault(); advance(Number($("clock-seconds").value)); });
  $("fault-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var rule;
    try { rule = faultRule(); } catch (e) { say("The fault's JSON body does not parse: " + e.message, true); return; }
    arm([rule]);
  });
  $("faults-clear").addEventListener("click", function () {
    call("DELETE", "/_mock/faults").then(function () { say("Faults cleared."); }).catch(function (e) { say(e.message, true); }).then(loadFaults);
  });
  document.querySelectorAll("button.scenario-arm").forEach(function (button) {
    button.addEventListener("click", function () { arm(JSON.parse(button.getAttribute("data-faults"))); });
  });
  $("reset-button").addEventListener("click", function () {
    call("POST", "/_mock/reset").then(function () { say("The mock was reset."); connect(); refreshAll(); })
      .catch(function (e) { say("Could not reset: " + e.message, true); });
  });

  function start() { connect(); refreshAll(); }

  if (needsToken) {
    $("token-form").addEventListener("submit", function (event) {
      event.preventDefault();
      window.sessionStorage.setItem("nemo-mock-control-token", $("token-input").value);
      start();
    });
    if (token()) { start(); }
  } else {
    start();
  }
})();
