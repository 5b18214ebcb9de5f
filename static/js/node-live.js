// The node page's live panel (templates/nodes/detail.html, _live.html): no inline script (CSP).
//   <section data-live data-live-wait="12">   how long to wait for a tab before giving up
//   <a data-live-tab="daemon" hx-get=…>        a tab; the open one carries aria-current="page"
//   <div id="live-panel" data-section="…">    the panel htmx swaps (outerHTML)
// While a tab loads, the panel shows a spinner; when no answer came after data-live-wait seconds
// the request is aborted and the panel says "No answer after N s" with a Retry link (an htmx
// link to the same URL, so Retry works like the tabs, and without script as a plain link).
(function () {
  'use strict';

  var timer = null;

  function section(path) {
    var match = /[?&]section=([a-z]+)/.exec(path || '');
    return match ? match[1] : '';
  }

  function markTab(key) {
    if (!key) { return; }
    var tabs = document.querySelectorAll('[data-live-tab]');
    for (var i = 0; i < tabs.length; i++) {
      if (tabs[i].getAttribute('data-live-tab') === key) {
        tabs[i].setAttribute('aria-current', 'page');
      } else {
        tabs[i].removeAttribute('aria-current');
      }
    }
  }

  function isLive(event) {
    var target = event.detail && event.detail.target;
    return target && target.id === 'live-panel';
  }

  function waitSeconds() {
    var box = document.querySelector('[data-live-wait]');
    var seconds = box ? Number(box.getAttribute('data-live-wait')) : 12;
    return seconds > 0 ? seconds : 12;
  }

  function paragraph(className, role) {
    var p = document.createElement('p');
    p.className = className;
    p.setAttribute('role', role);
    return p;
  }

  function showSpinner(panel, seconds) {
    var p = paragraph('live-wait', 'status');
    var spin = document.createElement('span');
    spin.className = 'spinner';
    spin.setAttribute('aria-hidden', 'true');
    var note = document.createElement('span');
    note.className = 'muted small';
    note.textContent = '(gives up after ' + seconds + ' s)';
    p.appendChild(spin);
    p.appendChild(document.createTextNode(' Asking the node… '));
    p.appendChild(note);
    panel.replaceChildren(p);
    panel.setAttribute('data-loading', '');
    panel.removeAttribute('data-live-error');
  }

  function showNoAnswer(panel, seconds, path, text) {
    var box = document.createElement('div');
    box.className = 'live-error';
    box.setAttribute('role', 'alert');
    var p = paragraph('errorlist', 'none');
    p.removeAttribute('role');
    p.textContent = text || ('No answer after ' + seconds + ' s. The node may be hung or very slow.');
    var retry = document.createElement('a');
    retry.className = 'button secondary';
    retry.textContent = 'Retry';
    retry.setAttribute('data-live-retry', '');
    retry.setAttribute('href', path);
    retry.setAttribute('hx-get', path);
    retry.setAttribute('hx-target', '#live-panel');
    retry.setAttribute('hx-swap', 'outerHTML');
    box.appendChild(p);
    box.appendChild(retry);
    panel.replaceChildren(box);
    panel.removeAttribute('data-loading');
    panel.setAttribute('data-live-error', '');
    if (window.htmx) { window.htmx.process(box); }
  }

  document.addEventListener('htmx:beforeRequest', function (event) {
    if (!isLive(event) || event.defaultPrevented) { return; }
    var panel = event.detail.target;
    var config = event.detail.requestConfig || {};
    var path = config.path || (event.detail.pathInfo && event.detail.pathInfo.requestPath) || '';
    var xhr = event.detail.xhr;
    var seconds = waitSeconds();
    markTab(section(path));
    showSpinner(panel, seconds);
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () {
      timer = null;
      if (xhr && xhr.readyState !== 4) { xhr.abort(); }
      var current = document.getElementById('live-panel');
      if (current) { showNoAnswer(current, seconds, path); }
    }, seconds * 1000);
  });

  document.addEventListener('htmx:afterRequest', function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (!isLive(event) || !xhr || xhr.readyState !== 4) { return; }
    if (timer) { clearTimeout(timer); timer = null; }
    if (xhr.status >= 400 || xhr.status === 0) {
      var config = event.detail.requestConfig || {};
      var current = document.getElementById('live-panel');
      if (current) {
        showNoAnswer(current, waitSeconds(), config.path || '',
                     'The panel could not read this tab (HTTP ' + xhr.status + ').');
      }
    }
  });

  document.addEventListener('htmx:afterSwap', function () {
    var panel = document.getElementById('live-panel');
    if (panel) { markTab(panel.getAttribute('data-section')); }
  });
})();
