"""A test wallet for browser tests: fake SSP, EVM and ZelCore providers injected into the page.

    wallet = TestWallet(keys.USER, evm_key=keys.ETH_USER)
    wallet.install(page)                 # before page.goto: window.ssp, window.ethereum, window.zelcore
    wallet.ssp_mode = "reject"           # how the next SSP request answers (see MODES)
    ...
    wallet.answer_zelcore()              # post the signature to the callback, as the ZelCore app does

The page's providers call back into this process (Playwright `expose_function`), which signs with
`fluxpanel.fluxos.signatures.sign_message` and the throw-away test keys of tests.sim.keys: the
browser only ever sees signatures, never a key.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import requests

from tests.sim.keys import TestKey

# What the next request answers:
#   ok            sign and answer like the real wallet
#   legacy_error  resolve with {status: 'ERROR', result: 'Request rejected'} (older SSP versions)
#   reject        reject the promise with code 4001 (the user declined)
#   hang          never answer (a locked wallet)
#   wrong_key     sign with `other_key` instead (the user picked another address)
MODES = ("ok", "legacy_error", "reject", "hang", "wrong_key")

_INIT_SCRIPT = """
(() => {
  const options = %s;
  const answer = async (reply) => {
    if (reply.hang) return new Promise(() => {});
    if (reply.reject) {
      const error = new Error(reply.reject.message);
      error.code = reply.reject.code;
      throw error;
    }
    return reply.value;
  };
  if (options.ssp) {
    window.ssp = {
      request: async (method, params) => answer(await window.__testWalletSsp(method, params || {})),
    };
  }
  if (options.evm) {
    window.ethereum = {
      isMetaMask: true,
      request: async ({ method, params }) => answer(await window.__testWalletEvm(method, params || [])),
    };
  }
  if (options.zelcore) {
    window.zelcore = { protocol: (uri) => { window.__testWalletZelcore(uri); } };
  }
})();
"""


class TestWallet:
    __test__ = False  # not a pytest class

    def __init__(self, key: TestKey, *, evm_key: TestKey | None = None,
                 other_key: TestKey | None = None):
        self.key = key
        self.evm_key = evm_key
        self.other_key = other_key
        self.ssp_mode = "ok"
        self.evm_mode = "ok"
        self.calls: list[tuple[str, object]] = []  # (method, params) as the page sent them
        self.zelcore_uris: list[str] = []

    # ------------------------------------------------------------------ installing

    def install(self, page, *, ssp: bool = True, evm: bool = True, zelcore: bool = True) -> None:
        """Call before the page navigates: the providers exist before any page script runs."""
        page.expose_function("__testWalletSsp", self._ssp)
        page.expose_function("__testWalletEvm", self._evm)
        page.expose_function("__testWalletZelcore", self._zelcore)
        options = {"ssp": ssp, "evm": evm and self.evm_key is not None, "zelcore": zelcore}
        page.add_init_script(_INIT_SCRIPT % json.dumps(options))

    # ------------------------------------------------------------------ the providers

    def _ssp(self, method: str, params: dict) -> dict:
        self.calls.append((method, params))
        if method != "sspwid_sign_message":
            return {"reject": {"message": f"Unsupported method {method}", "code": 4200}}
        mode = self.ssp_mode
        if mode == "hang":
            return {"hang": True}
        if mode == "reject":
            return {"reject": {"message": "User rejected the request", "code": 4001}}
        if mode == "legacy_error":
            return {"value": {"status": "ERROR", "result": "Request rejected"}}
        key = self.other_key if mode == "wrong_key" else self.key
        message = params["message"]
        return {"value": {"status": "SUCCESS", "address": key.zelid, "message": message,
                          "signature": key.sign(message)}}

    def _evm(self, method: str, params: list) -> dict:
        self.calls.append((method, params))
        key = self.other_key if self.evm_mode == "wrong_key" else self.evm_key
        if self.evm_mode == "hang":
            return {"hang": True}
        if self.evm_mode == "reject":
            return {"reject": {"message": "MetaMask Tx Signature: User denied message signature.",
                               "code": 4001}}
        if method == "eth_requestAccounts":
            return {"value": [key.zelid.lower()]}  # MetaMask answers lowercase
        if method == "personal_sign":
            data, address = params
            if address.lower() != key.zelid.lower():
                return {"reject": {"message": "Unknown account", "code": 4100}}
            # The page must send the hex of the UTF-8 message: decoding it back is what the
            # wallet shows and signs.
            message = bytes.fromhex(data[2:]).decode("utf-8")
            return {"value": key.sign(message)}
        return {"reject": {"message": f"Unsupported method {method}", "code": 4200}}

    # ------------------------------------------------------------------ ZelCore

    def _zelcore(self, uri: str) -> None:
        """`window.zelcore.protocol(uri)`: ZelCore's in-app browser handing it the link."""
        self.zelcore_uris.append(uri)

    def answer_zelcore(self, uri: str | None = None, *, key: TestKey | None = None,
                       message: str | None = None) -> requests.Response:
        """Do what the ZelCore app does with a `zel:?action=sign…` link: sign the message and POST
        address, message and signature (a form) to the callback. `message` overrides what is
        posted (to test a tampered message)."""
        uri = uri or self.zelcore_uris[-1]
        query = parse_qs(urlsplit(uri.replace("zel:", "http://zel/", 1)).query)
        assert query["action"] == ["sign"], uri
        signed = query["message"][0]
        if signed.startswith("FLUX_URL="):  # a long message: ZelCore fetches the text to sign
            signed = requests.get(signed.removeprefix("FLUX_URL="), timeout=15).text
        key = key or self.key
        return requests.post(query["callback"][0], timeout=15, data={
            "address": key.zelid, "message": message if message is not None else signed,
            "signature": key.sign(signed)})


# ---------------------------------------------------------------------- for view tests


def link(user, key: TestKey):
    """Make `user` the key holder of `key`'s ZelID (as a proven link would)."""
    from apps.wallets.models import WalletIdentity
    from apps.wallets.zelids import zelid_key

    return WalletIdentity.objects.create(user=user, zelid=key.zelid, zelid_key=zelid_key(key.zelid),
                                         kind=key.kind)


def item_fields(html: str) -> dict:
    """The data attributes of a rendered signing item (`_sign_item.html`) and its message."""
    import html as html_lib
    import re

    head = re.search(r'<div class="sign-item"(.*?)>', html, re.S).group(1)
    fields = {name: html_lib.unescape(value)
              for name, value in re.findall(r'data-([a-z-]+)="([^"]*)"', head)}
    message = re.search(r'data-role="message">(.*?)</textarea>', html, re.S).group(1)
    fields["message"] = html_lib.unescape(message)
    return fields
