// Result page: poll the JSON status while the scan is queued/processing (one reload when it
// finishes, never a refresh loop); on a result, the picture tools: window/level on the original,
// heatmap opacity, "hottest region only", and an enlarged view with zoom and pan.
(function () {
  "use strict";

  // --- Window/level on the original (exact: a look-up table on a canvas) -----------------------
  var original = document.getElementById("original-canvas");
  var originalImage = document.getElementById("original-image");
  var level = document.getElementById("wl-level");
  var windowWidth = document.getElementById("wl-window");
  var originalPixels = null;

  function applyWindowLevel() {
    if (!originalPixels) return;
    var centre = Number(level.value), width = Number(windowWidth.value);
    var low = centre - width / 2, lut = new Uint8ClampedArray(256);
    for (var v = 0; v < 256; v++) lut[v] = Math.round(((v - low) / width) * 255);
    var out = new ImageData(originalPixels.width, originalPixels.height), src = originalPixels.data, dst = out.data;
    for (var i = 0; i < src.length; i += 4) {
      dst[i] = lut[src[i]]; dst[i + 1] = lut[src[i + 1]]; dst[i + 2] = lut[src[i + 2]]; dst[i + 3] = 255;
    }
    original.getContext("2d").putImageData(out, 0, 0);
  }

  function pixelsOf(image) {
    var canvas = document.createElement("canvas");
    canvas.width = image.naturalWidth; canvas.height = image.naturalHeight;
    var context = canvas.getContext("2d");
    context.drawImage(image, 0, 0);
    return context.getImageData(0, 0, canvas.width, canvas.height);
  }

  function whenLoaded(image, callback) {
    if (image.complete && image.naturalWidth) callback(); else image.addEventListener("load", callback, { once: true });
  }

  if (original && originalImage && level && windowWidth) {
    whenLoaded(originalImage, function () {
      originalPixels = pixelsOf(originalImage);
      original.width = originalPixels.width; original.height = originalPixels.height;
      applyWindowLevel();
      document.documentElement.classList.add("js-window-level");
    });
    level.addEventListener("input", applyWindowLevel);
    windowWidth.addEventListener("input", applyWindowLevel);
    document.getElementById("wl-reset").addEventListener("click", function () {
      level.value = "128"; windowWidth.value = "255"; applyWindowLevel();
    });
  }

  // --- Heatmap: opacity, full or hottest region only ---------------------------------------------
  var slider = document.getElementById("heatmap-opacity");
  var layer = document.getElementById("heatmap-layer");
  var hottest = document.getElementById("hottest-canvas");
  var threshold = document.getElementById("heat-threshold");
  var thresholdValue = document.getElementById("heat-threshold-value");
  var hottestControls = document.getElementById("hottest-controls");
  var images = document.getElementById("result-images");
  var heatPixels = null;

  function jet(x) {  // the colour scale of the overlay (OpenCV's JET), x in [0, 1] -> [r, g, b]
    function channel(offset) { return Math.max(0, Math.min(1, 1.5 - Math.abs(4 * x - offset))) * 255; }
    return [channel(3), channel(2), channel(1)];
  }

  function drawHottest() {
    if (!heatPixels) return;
    var w = heatPixels.width, h = heatPixels.height, heat = heatPixels.data;
    var cut = Math.round((Number(threshold.value) / 100) * 255);
    var out = new ImageData(w, h), dst = out.data;
    function hot(x, y) { return x >= 0 && y >= 0 && x < w && y < h && heat[(y * w + x) * 4] >= cut; }
    for (var y = 0; y < h; y++) {
      for (var x = 0; x < w; x++) {
        var i = (y * w + x) * 4, value = heat[i];
        if (value < cut) continue;
        var edge = !hot(x - 1, y) || !hot(x + 1, y) || !hot(x, y - 1) || !hot(x, y + 1);
        var colour = edge ? [255, 255, 255] : jet(value / 255);
        dst[i] = colour[0]; dst[i + 1] = colour[1]; dst[i + 2] = colour[2]; dst[i + 3] = edge ? 255 : 140;
      }
    }
    hottest.width = w; hottest.height = h;
    hottest.getContext("2d").putImageData(out, 0, 0);
    hottest.dataset.drawnThreshold = threshold.value;  // what is on the canvas (an empty canvas is already 300 px wide)
    thresholdValue.textContent = threshold.value;
  }

  function setMode(mode) {
    var onlyHottest = mode === "hottest";
    layer.classList.toggle("d-none", onlyHottest);
    hottest.classList.toggle("d-none", !onlyHottest);
    hottestControls.classList.toggle("d-none", !onlyHottest);
    if (onlyHottest && !heatPixels && images.dataset.heatUrl) {
      var heatImage = new Image();
      heatImage.addEventListener("load", function () { heatPixels = pixelsOf(heatImage); drawHottest(); });
      heatImage.src = images.dataset.heatUrl;
    } else if (onlyHottest) {
      drawHottest();
    }
  }

  if (slider && layer) {
    slider.addEventListener("input", function () {
      var opacity = String(slider.value / 100);
      layer.style.opacity = opacity;
      if (hottest) hottest.style.opacity = opacity;
    });
  }
  if (hottest && images) {
    document.querySelectorAll('input[name="heat-mode"]').forEach(function (radio) {
      radio.addEventListener("change", function () { if (radio.checked) setMode(radio.value); });
    });
    threshold.addEventListener("input", drawHottest);
  }

  // --- Enlarged view: zoom (wheel, buttons) and pan (drag) ------------------------------------------
  var viewer = document.getElementById("image-viewer");
  if (viewer && window.bootstrap) {
    var modal = new window.bootstrap.Modal(viewer);
    var content = document.getElementById("viewer-content");
    var stage = document.getElementById("viewer-stage");
    var view = { scale: 1, x: 0, y: 0 }, drag = null;

    function render() {
      content.style.transform = "translate(" + view.x + "px, " + view.y + "px) scale(" + view.scale + ")";
      content.dataset.scale = String(view.scale);
    }
    function zoom(factor) { view.scale = Math.max(1, Math.min(8, view.scale * factor)); if (view.scale === 1) { view.x = 0; view.y = 0; } render(); }
    function copyCanvas(source) {
      var copy = document.createElement("canvas");
      copy.width = source.width; copy.height = source.height;
      copy.getContext("2d").drawImage(source, 0, 0);
      return copy;
    }
    function visible(element) { return element && !element.classList.contains("d-none") && element.offsetParent !== null; }

    document.querySelectorAll("[data-enlarge]").forEach(function (button) {
      button.addEventListener("click", function () {
        content.replaceChildren();
        if (button.dataset.enlarge === "original") {
          content.appendChild(visible(original) ? copyCanvas(original) : originalImage.cloneNode());
        } else {
          content.appendChild(document.getElementById("heatmap-base").cloneNode());
          var top = visible(hottest) ? copyCanvas(hottest) : layer.cloneNode();
          top.removeAttribute("id");
          top.className = "viewer-layer";
          top.style.opacity = slider ? String(slider.value / 100) : "1";
          content.appendChild(top);
        }
        content.querySelectorAll("[id]").forEach(function (element) { element.removeAttribute("id"); });
        view = { scale: 1, x: 0, y: 0 }; render();
        modal.show();
      });
    });
    document.getElementById("viewer-zoom-in").addEventListener("click", function () { zoom(1.5); });
    document.getElementById("viewer-zoom-out").addEventListener("click", function () { zoom(1 / 1.5); });
    document.getElementById("viewer-zoom-reset").addEventListener("click", function () { view = { scale: 1, x: 0, y: 0 }; render(); });
    stage.addEventListener("wheel", function (event) { event.preventDefault(); zoom(event.deltaY < 0 ? 1.2 : 1 / 1.2); }, { passive: false });
    stage.addEventListener("pointerdown", function (event) {
      drag = { x: event.clientX - view.x, y: event.clientY - view.y };
      stage.setPointerCapture(event.pointerId);
    });
    stage.addEventListener("pointermove", function (event) {
      if (!drag || view.scale === 1) return;
      view.x = event.clientX - drag.x; view.y = event.clientY - drag.y; render();
    });
    stage.addEventListener("pointerup", function () { drag = null; });
  }

  // --- Live status while the scan waits ----------------------------------------------------------
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
