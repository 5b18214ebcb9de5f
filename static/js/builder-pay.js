/*
 * Pay tab (templates/builder/_tab_pay.html): hands the payment to the user's wallet. The panel
 * never pays; the watcher job sees the payment on the network.
 *  - [data-ssp-pay]: SSP Wallet's pay request, window.ssp.request('pay', {address, amount, chain,
 *    message}); newer versions reject on refusal, older ones resolve {status: 'ERROR'}.
 *  - [data-zelcore-pay]: the zel: pay link; inside ZelCore (window.zelcore) it goes through
 *    zelcore.protocol(), elsewhere the link opens the installed wallet.
 */
(function () {
  'use strict';

  function say(button, text) {
    var out = button.closest('[data-role=pay-tab]');
    out = out && out.querySelector('[data-role=ssp-pay-result]');
    if (out) out.textContent = text;
  }

  async function sspPay(button) {
    if (!window.ssp || typeof window.ssp.request !== 'function') {
      say(button, 'SSP Wallet is not installed in this browser.');
      return;
    }
    button.disabled = true;
    say(button, 'Waiting for SSP Wallet…');
    try {
      var answer = await window.ssp.request('pay', {
        address: button.dataset.address, amount: button.dataset.amount,
        chain: button.dataset.chain || 'flux', message: button.dataset.message
      });
      if (!answer || answer.status === 'ERROR') {
        say(button, 'SSP Wallet did not pay: ' + ((answer && (answer.result || answer.data)) || 'refused') + '.');
      } else {
        say(button, 'Sent' + (answer.txid ? ' (transaction ' + answer.txid + ')' : '') +
            ': the watcher below turns the draft live once the network has it.');
      }
    } catch (error) {
      say(button, 'SSP Wallet did not pay: ' + ((error && error.message) || 'refused') + '.');
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener('click', function (event) {
    var ssp = event.target.closest('[data-ssp-pay]');
    if (ssp) {
      event.preventDefault();
      sspPay(ssp);
      return;
    }
    var zel = event.target.closest('[data-zelcore-pay]');
    if (zel && window.zelcore && typeof window.zelcore.protocol === 'function') {
      event.preventDefault();
      window.zelcore.protocol(zel.getAttribute('href'));
    }
  });
})();
