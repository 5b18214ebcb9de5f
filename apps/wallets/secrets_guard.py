"""Refuse anything that looks like a private key, WIF, extended private key or seed phrase.

The panel never needs a key: only addresses, messages and signatures. Someone who pastes a key
into a form (by mistake, or because a "support agent" told them to) is stopped with a clear
message, and the value is dropped from the form data at once, so it is never validated further,
rendered back into the page, stored or logged.

Reusable by any app: `find_secret(text)` for one value, `SecretsGuardMixin` for a whole form.
"""
from __future__ import annotations

import re
from functools import lru_cache

from django import forms
from django.forms.utils import ErrorDict

from fluxpanel.fluxos.crypto import base58check_decode

SECRET_CODE = "secret"

# Whole value (or one whole line) of 64 hex digits: a raw secp256k1 private key. Inside longer
# text a 64-hex token is more often a txid or an image digest, so only whole values count.
_HEX_KEY = re.compile(r"(?:0x)?[0-9a-fA-F]{64}")
_BASE58_TOKEN = re.compile(r"[1-9A-HJ-NP-Za-km-z]{50,120}")
_WORD = re.compile(r"[a-z]+")
_XPRV_PREFIXES = ("xprv", "tprv", "yprv", "zprv", "uprv", "vprv", "Yprv", "Zprv", "Uprv", "Vprv")
_WIF_VERSIONS = (0x80, 0xEF)  # mainnet (Bitcoin and Flux alike) and testnet
SEED_MIN_WORDS = 12

KINDS = {
    "hex": "a private key (64 hexadecimal characters)",
    "wif": "a private key in WIF format",
    "xprv": "an extended private key",
    "seed": "a seed phrase (recovery words)",
}


def refusal_message(kind: str) -> str:
    return (
        f"This looks like {KINDS[kind]}. Never paste a private key, WIF or seed phrase into the "
        "panel (or give it to anyone): the panel only needs a signature made in your wallet. "
        "It was not saved or sent anywhere; if someone asked you for it, treat the key as "
        "compromised and move your funds."
    )


@lru_cache(maxsize=1)
def _bip39_words() -> frozenset[str]:
    from mnemonic import Mnemonic

    return frozenset(Mnemonic("english").wordlist)


def _is_wif_or_xprv(token: str) -> str | None:
    payload = base58check_decode(token)
    if payload is None:
        return None
    if len(payload) == 78 and token.startswith(_XPRV_PREFIXES):
        return "xprv"
    if payload[0] in _WIF_VERSIONS and (
        len(payload) == 33 or (len(payload) == 34 and payload[-1] == 0x01)
    ):
        return "wif"
    return None


def _longest_bip39_run(text: str) -> int:
    words = _bip39_words()
    longest = run = 0
    for word in _WORD.findall(text.lower()):
        run = run + 1 if word in words else 0
        longest = max(longest, run)
    return longest


def find_secret(value) -> str | None:
    """The kind of secret `value` looks like ('hex', 'wif', 'xprv', 'seed'), or None."""
    if not isinstance(value, str) or len(value.strip()) < 50:
        return None  # every form of key or seed is at least this long
    text = value.strip()
    for line in text.splitlines():
        if _HEX_KEY.fullmatch(line.strip()):
            return "hex"
    for token in _BASE58_TOKEN.findall(text):
        kind = _is_wif_or_xprv(token)
        if kind:
            return kind
    if _longest_bip39_run(text) >= SEED_MIN_WORDS:
        return "seed"
    return None


class SecretsGuardMixin:
    """Form mixin: refuse the whole form when any submitted field holds a key or seed.

    Every submitted field counts, including ones the form does not declare. The offending value
    is blanked in `self.data` before anything else sees it. `secrets_guard_exempt` names fields
    whose content is checked elsewhere; `secret_allowed(name, value)` may let a value through
    (e.g. the exact message the server itself issued).
    """

    secrets_guard_exempt: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.secret_refused: tuple[str, str] | None = None
        if self.is_bound:
            self.data = self._blank_secrets(self.data)

    def secret_allowed(self, name: str, value: str) -> bool:
        return name in self.secrets_guard_exempt

    def _blank_secrets(self, data):
        found = None
        for name in list(data.keys()):
            values = data.getlist(name) if hasattr(data, "getlist") else [data[name]]
            for value in values:
                kind = find_secret(value)
                if kind and not self.secret_allowed(name, value):
                    found = found or (name, kind)
                    break
        if found is None:
            return data
        self.secret_refused = found
        # Drop every value (not only the bad field): nothing of this submission is kept.
        return data.__class__() if hasattr(data, "getlist") else {}

    def full_clean(self):
        super().full_clean()
        if self.secret_refused:
            name, kind = self.secret_refused
            self._errors = ErrorDict()
            self.cleaned_data = {}
            field = name if name in self.fields else None
            self.add_error(field, forms.ValidationError(refusal_message(kind), code=SECRET_CODE))
