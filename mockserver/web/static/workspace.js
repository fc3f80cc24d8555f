// The workspace page follows its project live: on each `changed` event from the mock it fetches
// the page again and swaps in the parts that differ (a playing video is left alone if unchanged).
(function () {
  "use strict";
  var main = document.getElementById("main");
  var status = document.getElementById("live-status");
  if (!main || !window.EventSource) { return; }
  var PARTS = ["timeline", "chat", "renders", "credits"];
  var refreshing = false, again = false;

  function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    fetch(window.location.href, { headers: { "Accept": "text/html" }, cache: "no-store" })
      .then(function (response) { return response.text().then(function (text) { return [response.status, text]; }); })
      .then(function (result) {
        if (result[0] !== 200) { window.location.reload(); return; }  // the link expired: show why
        var doc = new DOMParser().parseFromString(result[1], "text/html");
        PARTS.forEach(function (id) {
          var now = document.getElementById(id), next = doc.getElementById(id);
          if (now && next && now.outerHTML !== next.outerHTML) { now.replaceWith(document.adoptNode(next)); }
        });
        var title = doc.getElementById("project-title");
        if (title) { document.getElementById("project-title").textContent = title.textContent; document.title = doc.title; }
        status.textContent = "Updated just now.";
      })
      .catch(function () { status.textContent = "Could not update; will retry on the next change."; })
      .then(function () { refreshing = false; if (again) { again = false; refresh(); } });
  }

  var source = new EventSource(main.getAttribute("data-events"));
  source.addEventListener("changed", refresh);
  source.onopen = function () { status.textContent = "Following the project live."; };
  source.onerror = function () { status.textContent = "Live updates paused; reconnecting…"; };
})();
