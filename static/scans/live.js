// Live rows: ask the batch status endpoint about unfinished scans and update them in place until
// every one is done or failed. No page reloads. Used by the history page (rows swapped for the
// server-rendered row) and by the upload page (through window.NeuroScanLive.watch).
(function () {
  "use strict";

  var FIRST_DELAY = 1500;
  var MAX_DELAY = 15000;

  // Poll `url` about `ids` (scan ids); onScan(scan) for each answer; stops when none is unfinished.
  function watch(url, ids, onScan) {
    var pending = ids.slice();
    var delay = FIRST_DELAY;

    function ask() {
      if (!pending.length) return;
      var query = pending.map(function (id) { return "id=" + encodeURIComponent(id); }).join("&");
      fetch(url + "?" + query, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) throw new Error("status " + response.status);
          return response.json();
        })
        .then(function (body) {
          var seen = {};
          body.scans.forEach(function (scan) {
            seen[scan.id] = true;
            onScan(scan);
          });
          // Finished scans, and ids the server no longer answers for, are not asked about again.
          pending = body.scans.filter(function (scan) { return !scan.finished; }).map(function (scan) { return scan.id; })
            .filter(function (id) { return seen[id]; });
          delay = FIRST_DELAY;
          if (pending.length) setTimeout(ask, delay);
        })
        .catch(function () {
          // Network blip or server restart: back off, keep trying, never hammer the server.
          delay = Math.min(delay * 2, MAX_DELAY);
          setTimeout(ask, delay);
        });
    }
    setTimeout(ask, FIRST_DELAY);
  }

  window.NeuroScanLive = { watch: watch };

  // History: rows still queued or processing carry data-live.
  var table = document.querySelector("[data-testid=history-table][data-statuses-url]");
  if (!table) return;
  var live = Array.prototype.map.call(table.querySelectorAll("tr[data-live]"), function (row) { return row.dataset.scanId; });
  if (!live.length) return;
  watch(table.dataset.statusesUrl, live, function (scan) {
    var row = table.querySelector('tr[data-scan-id="' + scan.id + '"]');
    if (!row || row.dataset.state === scan.state) return;
    var holder = document.createElement("tbody");
    holder.innerHTML = scan.row_html.trim(); // rendered by the server from the same template as the page
    if (holder.firstElementChild) row.replaceWith(holder.firstElementChild);
  });
})();
