// Behaviour every page shares, in a static file so the Content-Security-Policy can forbid inline
// script (no on*= attributes in templates). Marked up with data attributes:
//   <select data-autosubmit>          submits its form when the choice changes
//   <form data-confirm="Question?">   asks before submitting; Cancel keeps the page as it is
//   <a data-history-back href="/">    goes back one page (the href is the no-JavaScript fallback)
//   <button data-nav-toggle>         opens and closes the folded navigation on a phone
//   <div id=… hx-trigger="every 3s" data-poll-hidden="30">
//                                     polls on its htmx trigger while the tab is visible, and at
//                                     most once per data-poll-hidden seconds while it is hidden
//                                     (htmx trigger filters would need eval, which the CSP forbids)
(function () {
  'use strict';

  // Styles that only make sense with script (the folded navigation) hang off this class.
  document.documentElement.classList.add('js');

  document.addEventListener('click', function (event) {
    var toggle = event.target.closest && event.target.closest('[data-nav-toggle]');
    if (!toggle) { return; }
    var bar = toggle.closest('.topbar');
    var open = bar.classList.toggle('nav-open');
    toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
  });

  document.addEventListener('change', function (event) {
    var field = event.target.closest && event.target.closest('[data-autosubmit]');
    if (field && field.form) { field.form.submit(); }
  });

  document.addEventListener('submit', function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) { event.preventDefault(); }
  }, true);

  // Keyed by id: every changed answer replaces the polling element with a new one.
  var lastPoll = {};
  document.addEventListener('htmx:beforeRequest', function (event) {
    var part = event.detail && event.detail.elt;
    if (!part || !part.hasAttribute || !part.hasAttribute('data-poll-hidden')) { return; }
    var now = Date.now();
    var hiddenMs = Number(part.getAttribute('data-poll-hidden')) * 1000;
    if (document.visibilityState !== 'visible' && now - (lastPoll[part.id] || 0) < hiddenMs) {
      event.preventDefault();
      return;
    }
    lastPoll[part.id] = now;
  });

  document.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('a[data-history-back]');
    if (link && window.history.length > 1) { event.preventDefault(); window.history.back(); }
  });
})();

// Copy buttons: <button data-copy="#element-id"> copies that element's text to the clipboard.
(function () {
  'use strict';
  function copyFromTarget(event) {
    var button = event.target.closest && event.target.closest('[data-copy]');
    if (!button) { return; }
    var source = document.querySelector(button.getAttribute('data-copy'));
    if (!source || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(source.textContent).then(function () {
      var label = button.textContent;
      button.textContent = 'Copied';
      window.setTimeout(function () { button.textContent = label; }, 1500);
    });
  }
  document.addEventListener('click', copyFromTarget);
})();
