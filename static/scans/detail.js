// Result page: poll the JSON status while the scan is queued/processing (one reload when it
// finishes, never a refresh loop), and drive the heatmap opacity slider.
(function () {
  "use strict";

  var slider = document.getElementById("heatmap-opacity");
  var layer = document.getElementById("heatmap-layer");
  if (slider && layer) {
    slider.addEventListener("input", function () { layer.style.opacity = String(slider.value / 100); });
  }

  var box = document.getElementById("live-status");
  if (!box) return;
  var url = box.dataset.statusUrl;
  var text = document.getElementById("live-status-text");
  var elapsedOut = document.getElementById("live-elapsed");
  var starting = document.getElementById("service-starting");
  var started = Date.now() - parseFloat(box.dataset.elapsed || "0") * 1000;
  var labels = { queued: "Waiting for the analyser…", processing: "Analysing…" };
  var delay = 1000;

  var ticker = setInterval(function () {
    elapsedOut.textContent = String(Math.round((Date.now() - started) / 1000));
  }, 500);

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.json();
      })
      .then(function (status) {
        if (status.finished) {
          clearInterval(ticker);
          text.textContent = status.status === "done" ? "Done. Loading the result…" : "The analysis failed.";
          window.location.replace(status.result_url);
          return;
        }
        text.textContent = status.service_starting ? "The analysis service is starting…" : (labels[status.status] || status.status_display);
        if (starting) starting.classList.toggle("d-none", !status.service_starting);
        delay = 1000;
        setTimeout(poll, delay);
      })
      .catch(function () {
        // Network blip or server restart: back off, keep trying, never hammer the server.
        delay = Math.min(delay * 2, 15000);
        text.textContent = "Connection problem, retrying…";
        setTimeout(poll, delay);
      });
  }
  setTimeout(poll, delay);
})();
