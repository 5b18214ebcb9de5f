// Build tab: nothing runs inline (CSP). htmx does the autosave; this only keeps focus sane.
document.addEventListener("htmx:afterSwap", function () {});
