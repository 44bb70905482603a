// API token page: copy the new key to the clipboard (shown once, so copying must be easy).
(function () {
  "use strict";
  var button = document.getElementById("copy-token");
  if (!button) return;
  var key = document.getElementById(button.dataset.copyTarget);
  var result = document.getElementById("copy-token-result");

  function selectKey() {
    var range = document.createRange();
    range.selectNodeContents(key);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  button.addEventListener("click", function () {
    var text = key.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { result.textContent = "Copied."; button.textContent = "Copied"; },
        function () { selectKey(); result.textContent = "Selected: press Ctrl+C (⌘C) to copy."; }
      );
    } else {
      // Plain http on a non-local address has no clipboard API: select it for the user instead.
      selectKey();
      result.textContent = "Selected: press Ctrl+C (⌘C) to copy.";
    }
  });
})();
