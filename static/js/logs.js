// The merged Logs page (templates/operations/logs.html): follow mode and scrolling.
//   #log-follow      unchecked: the poller's next request is cancelled (the chain of polls stops);
//                    checked again: the poller is sent a "resume" event and polls at once.
//   [data-log-lines] stays scrolled to the bottom while following, if it was at the bottom; it
//                    stays in time order (a node that comes back brings lines older than the
//                    last one shown: then the lines are sorted again by data-ts), and keeps at
//                    most MAX_LINES lines (the oldest go).
(function () {
  'use strict';
  function following() {
    var box = document.getElementById('log-follow');
    return !box || box.checked;
  }
  document.addEventListener('htmx:confirm', function (evt) {
    var elt = evt.detail && evt.detail.elt;
    if (elt && elt.id === 'log-poller' && !following()) { evt.preventDefault(); }
  });
  document.addEventListener('change', function (evt) {
    if (evt.target && evt.target.id === 'log-follow' && evt.target.checked && window.htmx) {
      var poller = document.getElementById('log-poller');
      if (poller) { window.htmx.trigger(poller, 'resume'); }
    }
  });
  var MAX_LINES = 20000;
  var stick = true;
  var before = 0;
  var lastTs = '';
  document.addEventListener('htmx:beforeSwap', function () {
    var lines = document.querySelector('[data-log-lines]');
    if (!lines) { return; }
    stick = lines.scrollTop + lines.clientHeight >= lines.scrollHeight - 4;
    before = lines.children.length;
    var last = lines.lastElementChild;
    lastTs = last && last.dataset.ts ? last.dataset.ts : '';
  });
  function keepInOrder(lines) {
    var rows = Array.prototype.slice.call(lines.children);
    var late = false;
    for (var i = before; i < rows.length; i++) {
      if (rows[i].dataset.ts && rows[i].dataset.ts < lastTs) { late = true; break; }
    }
    if (late) {
      rows.sort(function (a, b) {
        var x = a.dataset.ts || '', y = b.dataset.ts || '';
        return x < y ? -1 : (x > y ? 1 : 0);
      });
      rows.forEach(function (row) { lines.appendChild(row); });
    }
    while (lines.children.length > MAX_LINES) { lines.removeChild(lines.firstElementChild); }
  }
  document.addEventListener('htmx:afterSettle', function () {
    var lines = document.querySelector('[data-log-lines]');
    if (!lines) { return; }
    if (lines.children.length > before) { keepInOrder(lines); }
    before = lines.children.length;
    if (stick && following()) { lines.scrollTop = lines.scrollHeight; }
  });
})();
