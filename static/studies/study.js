// Study page: live progress (n of N slices analysed, one reload when the summary is written) and
// the stack viewer: one slice at a time, moved with the slider, the mouse wheel, the arrow keys or
// a swipe; the heatmap overlay with its opacity; a strip chart of each slice's AI tumour
// probability along the series (click to jump). Plain DOM and SVG: no WebGL, no inline script.
(function () {
  "use strict";

  var live = document.getElementById("study-live");
  var viewer = document.getElementById("viewer");
  if (!live || !viewer) return;

  var statusUrl = live.dataset.statusUrl;
  var bar = document.getElementById("progress-bar");
  var progressText = document.getElementById("progress-text");
  var frame = document.getElementById("stack-frame");
  var image = document.getElementById("slice-image");
  var heatmap = document.getElementById("slice-heatmap");
  var slider = document.getElementById("slice-slider");
  var number = document.getElementById("slice-number");
  var chart = document.getElementById("strip-chart");
  var answer = document.getElementById("slice-answer");
  var link = document.getElementById("slice-link");
  var toggle = document.getElementById("heatmap-toggle");
  var opacity = document.getElementById("heatmap-opacity");
  var SVG = "http://www.w3.org/2000/svg";

  var all = [];       // every slice of the study, from the status JSON
  var slices = [];    // the current series' slices, in order
  var series = 1;
  var index = 0;
  var delay = 1000;

  function setBar(finished, total) {
    bar.style.width = (total ? (100 * finished / total) : 0).toFixed(1) + "%";
  }
  setBar(parseInt(bar.dataset.finished, 10) || 0, parseInt(bar.dataset.total, 10) || 0);

  function chooseSeries(number_) {
    series = number_;
    slices = all.filter(function (item) { return item.series === series; });
    slider.max = String(Math.max(0, slices.length - 1));
    document.querySelectorAll(".series-button").forEach(function (button) {
      button.classList.toggle("active", parseInt(button.dataset.series, 10) === series);
    });
    document.querySelectorAll(".series-info").forEach(function (info) {
      info.classList.toggle("d-none", parseInt(info.dataset.series, 10) !== series);
    });
  }

  function show(newIndex) {
    if (!slices.length) return;
    index = Math.max(0, Math.min(slices.length - 1, newIndex));
    var item = slices[index];
    slider.value = String(index);
    if (image.getAttribute("src") !== item.image_url) image.src = item.image_url;
    number.textContent = "Slice " + (index + 1) + " of " + slices.length;
    var hasHeatmap = Boolean(item.heatmap_url);
    toggle.disabled = !hasHeatmap;
    opacity.disabled = !hasHeatmap;
    if (hasHeatmap && heatmap.getAttribute("src") !== item.heatmap_url) heatmap.src = item.heatmap_url;
    heatmap.hidden = !(hasHeatmap && toggle.checked);
    heatmap.style.opacity = String(opacity.value / 100);
    answer.textContent = describe(item);
    link.href = item.scan_url;
    preload(index + 1);
    preload(index - 1);
    drawChart();
  }

  function describe(item) {
    if (item.status === "done") {
      var text = item.answer;
      if (item.tumour_probability !== null) text += " · AI tumour probability " + item.tumour_probability_text;
      return text;
    }
    return { queued: "Waiting for the analyser…", processing: "Analysing…", failed: "The analysis of this slice failed." }[item.status] || item.status;
  }

  function preload(at) {
    if (at >= 0 && at < slices.length) {
      var img = new Image();
      img.src = slices[at].image_url;
    }
  }

  function drawChart() {
    var width = chart.clientWidth || 600;
    var height = chart.clientHeight || 64;
    while (chart.firstChild) chart.removeChild(chart.firstChild);
    chart.setAttribute("viewBox", "0 0 " + width + " " + height);
    var step = width / Math.max(1, slices.length);
    slices.forEach(function (item, at) {
      var rect = document.createElementNS(SVG, "rect");
      var p = item.tumour_probability;
      var h = p === null ? height * 0.15 : Math.max(2, p * (height - 4));
      rect.setAttribute("x", String(at * step + step * 0.1));
      rect.setAttribute("width", String(Math.max(1, step * 0.8)));
      rect.setAttribute("y", String(height - h));
      rect.setAttribute("height", String(h));
      rect.setAttribute("class", p === null ? "pending" : (p >= 0.5 ? "bar" : "bar low"));
      rect.dataset.index = String(at);
      var title = document.createElementNS(SVG, "title");
      title.textContent = "Slice " + (at + 1) + (p === null ? ": not analysed yet" : ": tumour probability " + item.tumour_probability_text);
      rect.appendChild(title);
      chart.appendChild(rect);
    });
    var marker = document.createElementNS(SVG, "rect");
    marker.setAttribute("x", String(index * step + 1));
    marker.setAttribute("y", "1");
    marker.setAttribute("width", String(Math.max(2, step - 2)));
    marker.setAttribute("height", String(height - 2));
    marker.setAttribute("class", "current");
    chart.appendChild(marker);
  }

  // Input: slider, buttons, keys, wheel, swipe, strip chart, series buttons, summary links.
  slider.addEventListener("input", function () { show(parseInt(slider.value, 10)); });
  document.getElementById("slice-prev").addEventListener("click", function () { show(index - 1); });
  document.getElementById("slice-next").addEventListener("click", function () { show(index + 1); });
  frame.addEventListener("keydown", function (event) {
    var moves = { ArrowUp: 1, ArrowRight: 1, PageUp: 10, ArrowDown: -1, ArrowLeft: -1, PageDown: -10 };
    if (event.key === "Home") { show(0); event.preventDefault(); return; }
    if (event.key === "End") { show(slices.length - 1); event.preventDefault(); return; }
    if (moves[event.key]) { show(index + moves[event.key]); event.preventDefault(); }
  });
  frame.addEventListener("wheel", function (event) {
    event.preventDefault();
    show(index + (event.deltaY > 0 ? 1 : -1));
  }, { passive: false });
  var touchY = null;
  frame.addEventListener("touchstart", function (event) { touchY = event.touches[0].clientY; }, { passive: true });
  frame.addEventListener("touchmove", function (event) {
    if (touchY === null) return;
    var moved = event.touches[0].clientY - touchY;
    if (Math.abs(moved) > 24) {
      show(index + (moved < 0 ? 1 : -1));
      touchY = event.touches[0].clientY;
    }
  }, { passive: true });
  frame.addEventListener("touchend", function () { touchY = null; });
  chart.addEventListener("click", function (event) {
    var box = chart.getBoundingClientRect();
    show(Math.floor((event.clientX - box.left) / (box.width / Math.max(1, slices.length))));
    frame.focus();
  });
  toggle.addEventListener("change", function () { show(index); });
  opacity.addEventListener("input", function () { heatmap.style.opacity = String(opacity.value / 100); });
  document.querySelectorAll(".series-button").forEach(function (button) {
    button.addEventListener("click", function () { chooseSeries(parseInt(button.dataset.series, 10)); show(0); });
  });
  document.querySelectorAll(".jump").forEach(function (button) {
    button.addEventListener("click", function () {
      chooseSeries(parseInt(button.dataset.series, 10));
      show(parseInt(button.dataset.position, 10));
      frame.focus();
    });
  });
  window.addEventListener("resize", drawChart);

  function apply(status, first) {
    all = status.slices;
    var keep = slices.length ? series : (all.length ? all[0].series : 1);
    chooseSeries(keep);
    show(first ? Math.floor(slices.length / 2) : index);
    setBar(status.progress.finished, status.progress.total);
    progressText.textContent = status.progress.finished + " of " + status.progress.total + " slices analysed" +
      (status.progress.failed ? " (" + status.progress.failed + " failed)" : "");
  }

  function poll(first) {
    fetch(statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.json();
      })
      .then(function (status) {
        apply(status, first);
        if (status.finished) {
          // The summary was written after this page was rendered: one reload shows it, never a loop.
          if (live.dataset.finished !== "1") window.location.reload();
          return;
        }
        delay = 1000;
        setTimeout(function () { poll(false); }, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 15000);
        progressText.textContent = "Connection problem, retrying…";
        setTimeout(function () { poll(false); }, delay);
      });
  }
  poll(true);
})();
