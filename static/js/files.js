// The Files page (templates/operations/files.html): upload with a progress bar.
//   <form data-files-upload data-max-bytes="…" data-max-text="…">
//     is sent with XMLHttpRequest instead of a page load, so its upload progress events can move
//     the <progress id="files-progress">; once the panel has the whole file it forwards it to the
//     node, and its answer (the refreshed listing with the node's message) replaces #files-listing.
//     A file over the panel's limit is refused here before any byte is sent. Without script the
//     form posts as a plain form and the page comes back with the message.
(function () {
  'use strict';
  function status(text) {
    var el = document.getElementById('files-upload-status');
    if (el) { el.textContent = text; }
  }
  function replaceListing(html) {
    var current = document.getElementById('files-listing');
    if (!current) { return; }
    var holder = document.createElement('div');
    holder.innerHTML = html;
    var fresh = holder.querySelector('#files-listing');
    if (!fresh) { status('Unexpected answer from the panel.'); return; }
    current.replaceWith(fresh);
    if (window.htmx) { window.htmx.process(fresh); }
  }
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute('data-files-upload')) { return; }
    var input = form.querySelector('input[type=file]');
    var file = input && input.files && input.files[0];
    if (!file || !window.XMLHttpRequest || !window.FormData) { return; }  // plain post
    event.preventDefault();
    var max = parseInt(form.getAttribute('data-max-bytes'), 10);
    if (max && file.size > max) {
      status(file.name + ' is larger than the upload limit of ' + form.getAttribute('data-max-text') + '.');
      return;
    }
    var bar = document.getElementById('files-progress');
    var button = form.querySelector('button[type=submit]');
    if (bar) { bar.hidden = false; bar.value = 0; bar.max = 100; }
    if (button) { button.disabled = true; }
    status('Sending ' + file.name + ' to the panel…');
    var xhr = new XMLHttpRequest();
    // getAttribute: the form's field named "action" shadows form.action
    xhr.open('POST', form.getAttribute('action'));
    xhr.setRequestHeader('X-Requested-With', 'XMLHttpRequest');
    xhr.upload.addEventListener('progress', function (e) {
      if (e.lengthComputable && bar) { bar.value = Math.round(e.loaded * 100 / e.total); }
    });
    xhr.upload.addEventListener('load', function () {
      if (bar) { bar.value = 100; }
      status('The panel has the file; forwarding it to the node…');
    });
    xhr.addEventListener('load', function () {
      if (button) { button.disabled = false; }
      if (xhr.status === 200) {
        replaceListing(xhr.responseText);
        var notice = document.querySelector('#files-listing [data-role=files-notice]');
        var error = document.querySelector('#files-listing [data-role=files-error]');
        status(error ? 'Upload failed.' : (notice ? 'Done.' : ''));
        if (!error) { form.reset(); }
      } else {
        status('Upload failed: the panel answered HTTP ' + xhr.status + '.');
      }
    });
    xhr.addEventListener('error', function () {
      if (button) { button.disabled = false; }
      status('Upload failed: the connection to the panel broke.');
    });
    xhr.send(new FormData(form));
  });
})();
