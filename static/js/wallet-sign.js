/*
 * The signing component (templates/wallets/_sign.html): gets a message from the server, has a
 * wallet sign it, and posts {address, signature, message} back. Private keys never come near it.
 *
 * Four ways to sign:
 *  - SSP Wallet: window.ssp.request('sspwid_sign_message', {message}); newer versions reject the
 *    promise on refusal, older ones resolve with {status: 'ERROR'}: both are handled;
 *  - EVM wallets: eth_requestAccounts, then personal_sign with the hex of the UTF-8 message;
 *  - ZelCore: the zel: deep link (or its QR code); ZelCore posts the signature to the panel
 *    itself and this page learns of it by polling;
 *  - copy and paste.
 * One request at a time; cancel; a timeout with a retry; every error in words.
 */
(function () {
  'use strict';

  var WALLET_TIMEOUT_MS = 120000;
  var POLL_MS = 2000;
  var ZELCORE_HINT_MS = 6000;
  var AFTER_SUCCESS_MS = 700;

  // --- talking to the panel -----------------------------------------------------------------

  function csrfToken() {
    var headers = document.body.getAttribute('hx-headers');
    if (headers) {
      try {
        var token = JSON.parse(headers)['X-CSRFToken'];
        if (token) return token;
      } catch (ignored) { /* fall back to the cookie */ }
    }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : '';
  }

  async function post(url, fields) {
    var response;
    try {
      response = await fetch(url, {
        method: 'POST', credentials: 'same-origin', body: new URLSearchParams(fields || {}),
        headers: { 'X-CSRFToken': csrfToken(), 'Accept': 'application/json' }
      });
    } catch (error) {
      return { ok: false, code: 'network', error: 'The panel could not be reached. Check the connection and try again.' };
    }
    try {
      return await response.json();
    } catch (error) {
      var why = response.status === 403 ? 'you are not allowed to do this (or your session ended: reload the page)' : 'answer ' + response.status;
      return { ok: false, code: 'http', error: 'The panel refused: ' + why + '.' };
    }
  }

  // --- refuse keys and seeds before they leave the page ---------------------------------------

  var SECRET_WARNING = 'This looks like %s. Never paste a private key, WIF or seed phrase into the panel ' +
    '(or give it to anyone): the panel only needs a signature made in your wallet. It was not sent anywhere; ' +
    'if someone asked you for it, treat the key as compromised and move your funds.';

  function secretKind(value) {
    var text = (value || '').trim();
    if (text.length < 50) return null;
    if (/^(0x)?[0-9a-fA-F]{64}$/.test(text)) return 'a private key (64 hexadecimal characters)';
    if (/^[5KLc9][1-9A-HJ-NP-Za-km-z]{50,51}$/.test(text)) return 'a private key in WIF format';
    if (/^[xtyzuvXYZUV]prv[1-9A-HJ-NP-Za-km-z]{100,112}$/.test(text)) return 'an extended private key';
    var words = text.split(/\s+/).filter(function (word) { return !/^\d+[.)]?$/.test(word); });
    if (words.length >= 12 && words.every(function (word) { return /^[a-z]+[,.]?$/i.test(word); })) {
      return 'a seed phrase (recovery words)';
    }
    return null;
  }

  // --- small helpers ------------------------------------------------------------------------

  function utf8Hex(text) {
    var bytes = new TextEncoder().encode(text);
    var hex = '0x';
    for (var i = 0; i < bytes.length; i++) hex += bytes[i].toString(16).padStart(2, '0');
    return hex;
  }

  function withTimeout(promise, ms) {
    var timer;
    var timeout = new Promise(function (resolve, reject) {
      timer = setTimeout(function () { reject({ timeout: true }); }, ms);
    });
    return Promise.race([promise, timeout]).finally(function () { clearTimeout(timer); });
  }

  function walletError(wallet, error) {
    var text = (error && (error.message || error.result || error.data || error.error)) || String(error || '');
    if (typeof text !== 'string') text = JSON.stringify(text);
    var code = error && error.code;
    if (error && error.timeout) {
      return 'No answer from ' + wallet + ' in time. Is it unlocked and open? Try again.';
    }
    if (code === 4001 || /reject|denied|declin|cancel/i.test(text)) {
      return 'You declined in ' + wallet + '. Nothing was signed.';
    }
    if (code === 4900) return 'Reload the page: the SSP Wallet extension was updated or restarted.';
    if (code === -32002) return wallet + ' already has a request waiting: open the wallet and answer it first.';
    return wallet + ' could not sign: ' + (text || 'unknown error') + '.';
  }

  function wrongAddress(expected, got) {
    return 'Wrong address: this must be signed by ' + expected + ', but the wallet signed as ' +
      (got || 'no address') + '. Switch to that address in your wallet.';
  }

  function formatLeft(ms) {
    var seconds = Math.max(0, Math.floor(ms / 1000));
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var rest = String(seconds % 60).padStart(2, '0');
    return (hours ? hours + ' h ' + String(minutes).padStart(2, '0') + ' min' : minutes + ':' + rest) + ' left';
  }

  // --- the component ------------------------------------------------------------------------

  function Signer(root) {
    this.root = root;
    this.box = root.querySelector('[data-role=item]');
    this.busy = false;
    this.generation = 0;       // bumped by cancel/next: late answers of older attempts are ignored
    this.lastMethod = null;
    this.ethConfirmed = false;
    this.timers = [];
    this.countdown = null;
    root.addEventListener('click', this.onClick.bind(this));
    root.addEventListener('submit', this.onSubmit.bind(this));
    this.adopt();
    if (root.dataset.autostart === 'true') this.next();
  }

  Signer.prototype.el = function (role) { return this.root.querySelector('[data-role=' + role + ']'); };
  Signer.prototype.item = function () { return this.box.querySelector('.sign-item:not([data-done])'); };
  Signer.prototype.timeoutMs = function () {
    return Number(this.root.dataset.timeoutMs) || WALLET_TIMEOUT_MS;
  };

  Signer.prototype.setStatus = function (text, kind) {
    var status = this.el('status');
    status.textContent = text || '';
    status.className = 'wallet-status' + (kind ? ' ' + kind : '');
  };

  Signer.prototype.showError = function (text, options) {
    options = options || {};
    var error = this.el('error');
    error.textContent = text;
    error.hidden = !text;
    var after = this.el('after');
    var retry = after.querySelector('[data-action=retry]');
    var renew = after.querySelector('[data-action=new-message]');
    var go = after.querySelector('[data-action=continue]');
    retry.hidden = !options.retry;
    renew.hidden = !options.renew;
    go.hidden = !options.next;
    after.hidden = !(options.retry || options.renew || options.next);
  };

  Signer.prototype.clearError = function () { this.showError(''); };

  Signer.prototype.setBusy = function (busy, text) {
    this.busy = busy;
    this.el('waiting').hidden = !busy;
    this.el('waiting-text').textContent = text || '';
    var item = this.item();
    if (!item) return;
    item.querySelectorAll('[data-method], [data-role=paste-form] button, [data-action=decline]').forEach(function (button) {
      button.disabled = busy;
    });
  };

  Signer.prototype.stopTimers = function () {
    this.timers.forEach(clearTimeout);
    this.timers = [];
  };

  // A new attempt: anything still running for an older one is abandoned.
  Signer.prototype.begin = function (text) {
    this.stopTimers();
    this.generation += 1;
    this.clearError();
    this.setStatus('');
    this.setBusy(true, text);
    return this.generation;
  };

  Signer.prototype.current = function (generation) { return generation === this.generation; };

  Signer.prototype.end = function () {
    this.stopTimers();
    this.setBusy(false);
  };

  Signer.prototype.expired = function () {
    var item = this.item();
    return !!item && Date.now() >= Number(item.dataset.expiresMs);
  };

  Signer.prototype.showExpired = function () {
    this.generation += 1;
    this.end();
    this.showError('This message expired. Get a new message and sign again.', { renew: true });
  };

  // --- steps --------------------------------------------------------------------------------

  Signer.prototype.next = async function () {
    this.generation += 1;
    var generation = this.generation;
    this.stopTimers();
    this.clearError();
    this.setBusy(true, 'Getting the message to sign…');
    var data = await post(this.root.dataset.nextUrl);
    if (!this.current(generation)) return;
    this.setBusy(false);
    if (typeof data.html !== 'string') {
      this.showError(data.error || 'Could not get a message to sign.', { renew: true });
      return;
    }
    this.root.appendChild(this.el('feedback'));  // keep it out of the part being replaced
    this.box.innerHTML = data.html;
    this.ethConfirmed = false;
    this.lastMethod = null;
    if (data.done) {
      this.setProgress('', 100, true);
      if (this.countdown) clearInterval(this.countdown);
      return;
    }
    this.adopt();
  };

  // Wire up the item now in the box (rendered by the server, first or after `next`).
  Signer.prototype.adopt = function () {
    var item = this.item();
    if (!item) return;
    var methods = item.querySelector('[data-role=methods]');
    if (methods) methods.after(this.el('feedback'));
    this.setProgress(item.dataset.progress || '', Number(item.dataset.percent) || 0, false);
    var ssp = item.querySelector('[data-method=ssp]');
    if (ssp && !window.ssp) ssp.setAttribute('data-missing', 'SSP Wallet was not found in this browser');
    var evm = item.querySelector('[data-method=evm]');
    if (evm && !window.ethereum) evm.setAttribute('data-missing', 'No EVM wallet was found in this browser');
    [ssp, evm].forEach(function (button) {
      if (button && button.hasAttribute('data-missing')) button.title = button.getAttribute('data-missing');
    });
    this.startCountdown();
  };

  // The server says where we are (`data-progress`: "2 of 5", percent done); a single message
  // shows no progress bar.
  Signer.prototype.setProgress = function (text, percent, done) {
    var box = this.el('progress');
    var show = done ? !!box.dataset.shown : !!text;
    box.hidden = !show;
    if (!show) return;
    box.dataset.shown = '1';
    this.el('progress-text').textContent = done ? 'All done.' : text;
    var bar = box.querySelector('[role=progressbar]');
    var value = done ? 100 : percent;
    bar.setAttribute('aria-valuenow', String(value));
    bar.firstElementChild.style.width = value + '%';
  };

  Signer.prototype.startCountdown = function () {
    var self = this;
    if (this.countdown) clearInterval(this.countdown);
    var tick = function () {
      var item = self.item();
      if (!item) { clearInterval(self.countdown); return; }
      var left = Number(item.dataset.expiresMs) - Date.now();
      var label = item.querySelector('[data-role=countdown]');
      if (label) label.textContent = left > 0 ? formatLeft(left) : 'expired';
      if (left <= 0) {
        clearInterval(self.countdown);
        self.showExpired();
      }
    };
    tick();
    this.countdown = setInterval(tick, 1000);
  };

  Signer.prototype.message = function () {
    return this.item().querySelector('[data-role=message]').value;
  };

  Signer.prototype.start = function (method) {
    if (this.busy) {
      this.showError('A signing request is already waiting: finish or cancel it first.');
      return;
    }
    if (!this.item()) return;
    if (this.expired()) { this.showExpired(); return; }
    this.lastMethod = method;
    if (method === 'ssp') this.signWithSsp();
    else if (method === 'evm') this.signWithEvm();
    else if (method === 'zelcore') this.signWithZelcore();
  };

  Signer.prototype.signWithSsp = async function () {
    if (!window.ssp || typeof window.ssp.request !== 'function') {
      this.showError('SSP Wallet is not installed in this browser (or it is turned off). Install it, or use another way below.');
      return;
    }
    var message = this.message();
    var generation = this.begin('Approve the request in SSP Wallet…');
    var reply;
    try {
      reply = await withTimeout(Promise.resolve().then(function () {
        return window.ssp.request('sspwid_sign_message', { message: message });
      }), this.timeoutMs());
    } catch (error) {
      if (!this.current(generation)) return;
      this.end();
      this.showError(walletError('SSP Wallet', error), { retry: true });
      return;
    }
    if (!this.current(generation)) return;
    if (!reply || reply.status === 'ERROR' || !reply.signature) {
      // Older SSP versions resolve with {status: 'ERROR', result: 'Request rejected'}.
      this.end();
      this.showError(walletError('SSP Wallet', reply || {}), { retry: true });
      return;
    }
    this.submit({ address: reply.address || '', signature: reply.signature, message: message, via: 'ssp' }, generation);
  };

  Signer.prototype.signWithEvm = async function () {
    var provider = window.ethereum;
    if (!provider || typeof provider.request !== 'function') {
      this.showError('No EVM wallet (MetaMask or similar) was found in this browser. Install one, or use another way below.');
      return;
    }
    var item = this.item();
    if (item.dataset.ethStandard === 'false' && !this.ethConfirmed) {
      this.ethConfirmed = true;
      this.showError('Careful: FluxOS will refuse an EVM signature of this message (see the warning above). Click the EVM button again only if you are sure.');
      return;
    }
    var message = this.message();
    var expected = item.dataset.expected || '';
    var generation = this.begin('Approve the request in your EVM wallet…');
    try {
      var accounts = await withTimeout(provider.request({ method: 'eth_requestAccounts' }), this.timeoutMs());
      if (!this.current(generation)) return;
      var address = accounts && accounts[0];
      if (!address) throw { message: 'the wallet shared no account' };
      if (expected && expected.toLowerCase() !== String(address).toLowerCase()) {
        this.end();
        this.showError(wrongAddress(expected, address), { retry: true });
        return;
      }
      var signature = await withTimeout(provider.request({
        method: 'personal_sign', params: [utf8Hex(message), address]
      }), this.timeoutMs());
      if (!this.current(generation)) return;
      this.submit({ address: address, signature: signature, message: message, via: 'evm' }, generation);
    } catch (error) {
      if (!this.current(generation)) return;
      this.end();
      this.showError(walletError('the EVM wallet', error), { retry: true });
    }
  };

  Signer.prototype.signWithZelcore = function () {
    var item = this.item();
    var uri = item.dataset.zelUri;
    var generation = this.begin('Approve the request in ZelCore… this page waits for its answer.');
    if (window.zelcore && typeof window.zelcore.protocol === 'function') {
      window.zelcore.protocol(uri);
    } else {
      // As FluxOS does: a hidden link to the zel: scheme opens the installed ZelCore app.
      var link = document.createElement('a');
      link.href = uri;
      link.style.display = 'none';
      document.body.appendChild(link);
      link.click();
      link.remove();
    }
    var self = this;
    this.timers.push(setTimeout(function () {
      if (!self.current(generation)) return;
      self.setStatus('Did ZelCore not open? Scan the QR code with ZelCore on your phone, or use copy and paste.');
      var more = item.querySelector('[data-role=zelcore-more]');
      if (more) more.open = true;
    }, ZELCORE_HINT_MS));
    this.poll(generation);
  };

  Signer.prototype.poll = function (generation) {
    var self = this;
    this.timers.push(setTimeout(async function () {
      if (!self.current(generation)) return;
      if (self.expired()) { self.showExpired(); return; }
      var data = await post(self.item().dataset.pollUrl);
      if (!self.current(generation)) return;
      if (data.status === 'done') { self.succeeded(data.message, data.redirect, generation); return; }
      if (data.status === 'expired') { self.showExpired(); return; }
      if (data.status === 'failed' || data.status === 'closed') {
        self.end();
        self.showError(data.message || 'This request is closed.', { next: true });
        return;
      }
      if (data.status === 'error' || data.ok === false) {
        // ZelCore sent something that was refused; it may still send a good one.
        self.showError((data.message || data.error) + ' Still waiting for ZelCore…');
      }
      self.poll(generation);
    }, POLL_MS));
  };

  Signer.prototype.submit = async function (fields, generation) {
    var item = this.item();
    this.setBusy(true, 'Checking the signature…');
    var data = await post(item.dataset.submitUrl, fields);
    if (!this.current(generation)) return;
    if (data.ok) { this.succeeded(data.message, data.redirect, generation); return; }
    this.end();
    this.showError(data.error || 'The signature was refused.', {
      retry: !data.next && data.code !== 'expired' && !!this.lastMethod,
      renew: data.code === 'expired' || data.code === 'used',
      next: !!data.next
    });
  };

  Signer.prototype.succeeded = function (text, redirect, generation) {
    this.end();
    this.clearError();
    this.setStatus(text || 'Signed.', 'success');
    var target = this.root.dataset.doneUrl || redirect;
    // In a batch, the next message goes to the same browser wallet at once (the wallet still asks
    // for each one). ZelCore links need a click of their own, so they do not chain.
    var chain = this.lastMethod === 'ssp' || this.lastMethod === 'evm' ? this.lastMethod : null;
    var self = this;
    this.timers.push(setTimeout(async function () {
      if (!self.current(generation)) return;
      if (target) { window.location.assign(target); return; }
      await self.next();
      if (chain && self.item() && !self.busy) self.start(chain);
    }, AFTER_SUCCESS_MS));
  };

  Signer.prototype.cancel = function () {
    this.generation += 1;   // a wallet answering later is ignored
    this.end();
    this.clearError();
    this.setStatus('Cancelled: nothing was sent to the panel. Choose a way to sign when you are ready.');
  };

  Signer.prototype.decline = async function () {
    var item = this.item();
    if (this.busy || !item) return;
    var generation = this.begin('Declining…');
    var data = await post(item.dataset.declineUrl);
    if (!this.current(generation)) return;
    this.end();
    if (data.ok) { this.setStatus(data.message, 'success'); this.next(); return; }
    this.showError(data.error || 'Could not decline.');
  };

  Signer.prototype.copy = async function (button) {
    var text = this.message();
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = 'Copied';
    } catch (error) {
      var area = this.item().querySelector('[data-role=message]');
      area.select();
      button.textContent = 'Selected: press Ctrl+C';
    }
  };

  Signer.prototype.onClick = function (event) {
    var target = event.target.closest('[data-method], [data-action]');
    if (!target || !this.root.contains(target)) return;
    var method = target.getAttribute('data-method');
    if (method) { event.preventDefault(); this.start(method); return; }
    var action = target.getAttribute('data-action');
    if (action === 'start' || action === 'new-message' || action === 'continue') { this.next(); }
    else if (action === 'retry') {
      this.clearError();
      if (this.lastMethod) this.start(this.lastMethod);
    }
    else if (action === 'cancel') this.cancel();
    else if (action === 'decline') this.decline();
    else if (action === 'copy') this.copy(target);
  };

  Signer.prototype.onSubmit = function (event) {
    var form = event.target.closest('[data-role=paste-form]');
    if (!form) return;
    event.preventDefault();
    if (this.busy) {
      this.showError('A signing request is already waiting: finish or cancel it first.');
      return;
    }
    if (this.expired()) { this.showExpired(); return; }
    var fields = {};
    new FormData(form).forEach(function (value, name) { fields[name] = String(value); });
    var names = ['address', 'signature'];
    for (var i = 0; i < names.length; i++) {
      var kind = secretKind(fields[names[i]]);
      if (kind) {
        form.elements[names[i]].value = '';   // gone from the page too
        this.showError(SECRET_WARNING.replace('%s', kind));
        return;
      }
    }
    if (!fields.address.trim() || !fields.signature.trim()) {
      this.showError('Paste both the address that signed and the signature.');
      return;
    }
    this.lastMethod = null;
    this.submit(fields, this.begin('Checking the signature…'));
  };

  function init() {
    document.querySelectorAll('[data-wallet-sign]').forEach(function (root) {
      if (!root.walletSigner) root.walletSigner = new Signer(root);
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
}());
