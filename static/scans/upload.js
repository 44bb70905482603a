// Upload page: drag-and-drop or browse, one request per file so that each file has its own
// progress bar and its own error; then each row follows its analysis (live.js), and a single
// slice opens its result page. Without JavaScript the form posts all files at once.
(function () {
  "use strict";

  var form = document.getElementById("upload-form");
  var input = document.getElementById("id_files");
  var zone = document.getElementById("drop-zone");
  var list = document.getElementById("file-list");
  var button = document.getElementById("upload-button");
  var summary = document.getElementById("upload-summary");
  if (!form || !input || !window.FormData || !window.XMLHttpRequest) return;

  var chosen = []; // {file, row, bar, state}

  function formatSize(bytes) {
    if (bytes < 1024 * 1024) return Math.max(1, Math.round(bytes / 1024)) + " KB";
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function addFiles(files) {
    Array.prototype.forEach.call(files, function (file) {
      var row = element("li", "list-group-item file-row");
      row.dataset.testid = "file-row";
      row.setAttribute("data-testid", "file-row");
      var top = element("div", "d-flex justify-content-between gap-3");
      top.appendChild(element("span", "text-break file-name", file.name));
      var state = element("span", "text-muted small text-nowrap file-state", formatSize(file.size));
      top.appendChild(state);
      var progress = element("div", "progress mt-2");
      progress.setAttribute("role", "progressbar");
      progress.setAttribute("aria-label", "Upload progress of " + file.name);
      var bar = element("div", "progress-bar");
      bar.style.width = "0%";
      progress.appendChild(bar);
      row.appendChild(top);
      row.appendChild(progress);
      list.appendChild(row);
      chosen.push({ file: file, row: row, bar: bar, progress: progress, state: state, done: false });
    });
    list.hidden = chosen.length === 0;
    summary.textContent = chosen.length ? chosen.length + " file(s) ready" : "";
  }

  input.addEventListener("change", function () {
    addFiles(input.files);
    input.value = ""; // the list above holds the files now; choosing again adds more
  });

  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.remove("dragging"); });
  });
  zone.addEventListener("drop", function (event) {
    if (event.dataTransfer && event.dataTransfer.files) addFiles(event.dataTransfer.files);
  });

  // After the upload: each accepted file's row follows its scan until the analysis is done or failed.
  function follow(item, result) {
    if (!window.NeuroScanLive || !form.dataset.statusesUrl) return;
    window.NeuroScanLive.watch(form.dataset.statusesUrl, [result.scan_id], function (scan) {
      item.stateText.textContent = scan.finished ? scan.answer + " · " : scan.state_display + "… · ";
      item.row.dataset.state = scan.state;
      if (scan.finished && scan.state === "failed") {
        item.row.classList.remove("list-group-item-success");
        item.row.classList.add("list-group-item-danger");
      }
    });
  }

  function showResult(item, result) {
    item.done = true;
    item.progress.hidden = true;
    item.state.className = "small file-state";
    item.state.textContent = "";
    if (result.ok) {
      item.row.classList.add("list-group-item-success");
      item.stateText = element("span", "file-live-state", "Queued · ");
      item.stateText.setAttribute("data-testid", "file-state");
      item.state.appendChild(item.stateText);
      var link = element("a", "", "open result");
      link.href = result.url;
      item.state.appendChild(link);
      if (result.duplicate_of) {
        var same = result.duplicate_of.same_scan;
        var note = element("div", "file-duplicate", same
          ? "Uploaded already, on " + result.duplicate_of.uploaded + ": this is that scan, not a new one."
          : "The same file as one you uploaded on " + result.duplicate_of.uploaded + ": ");
        note.setAttribute("data-testid", "file-duplicate");
        var earlier = element("a", "", same ? "" : "earlier result");
        earlier.href = result.duplicate_of.url;
        if (!same) note.appendChild(earlier);
        item.state.appendChild(note);
      }
    } else {
      item.row.classList.add("list-group-item-danger");
      item.state.className = "small file-error";
      item.state.setAttribute("data-testid", "file-error");
      item.state.textContent = result.error || "Upload failed.";
    }
  }

  function send(item) {
    return new Promise(function (resolve) {
      var data = new FormData();
      data.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
      data.append("patient_reference", form.elements.patient_reference.value);
      data.append("note", form.elements.note.value);
      data.append("files", item.file, item.file.name);
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("Accept", "application/json");
      request.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) item.bar.style.width = Math.round((100 * event.loaded) / event.total) + "%";
      });
      request.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(request.responseText); } catch (error) { body = null; }
        var result = body && body.results && body.results[0];
        if (!result) result = { ok: false, error: (body && body.error) || "The server refused the upload (" + request.status + ")." };
        showResult(item, result);
        resolve(result);
      });
      request.addEventListener("error", function () {
        var failed = { ok: false, error: "Network error: the file was not uploaded." };
        showResult(item, failed);
        resolve(failed);
      });
      request.send(data);
    });
  }

  form.addEventListener("submit", function (event) {
    var pending = chosen.filter(function (item) { return !item.done; });
    if (!pending.length) {
      event.preventDefault();
      summary.textContent = chosen.length ? "All files are uploaded." : "Choose at least one file.";
      summary.className = chosen.length ? "text-muted small" : "text-danger small fw-semibold";
      summary.setAttribute("role", chosen.length ? "status" : "alert");
      return;
    }
    event.preventDefault();
    button.disabled = true;
    summary.className = "text-muted small";
    summary.setAttribute("role", "status");
    summary.textContent = "Uploading…";
    var accepted = [];
    // One file after another: a clinician's batch is small, and the server stays responsive.
    pending.reduce(function (previous, item) {
      return previous.then(function () { return send(item).then(function (result) { if (result.ok) accepted.push([item, result]); }); });
    }, Promise.resolve()).then(function () {
      // A single slice goes straight to its result page, which shows the analysis as it runs.
      if (pending.length === 1 && accepted.length === 1 && chosen.length === 1) {
        window.location.assign(accepted[0][1].url);
        return;
      }
      accepted.forEach(function (pair) { follow(pair[0], pair[1]); });
      button.disabled = false;
      summary.textContent = "";
      summary.appendChild(document.createTextNode(accepted.length + " of " + pending.length + " uploaded. "));
      var history = element("a", "", "Open your history");
      history.href = form.dataset.historyUrl;
      summary.appendChild(history);
    });
  });
})();
