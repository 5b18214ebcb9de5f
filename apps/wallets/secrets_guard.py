"""Refuse anything that looks like a private key, WIF, extended private key or seed phrase.

The panel never needs a key: only addresses, messages and signatures. Someone who pastes a key
into a form (by mistake, or because a "support agent" told them to) is stopped with a clear
message, and the value is dropped from the form data at once, so it is never validated further,
rendered back into the page, stored or logged.

Reusable by any app: `find_secret(text)` for one value, `SecretsGuardMixin` for a whole form.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from django import forms
from django.forms.utils import ErrorDict

from fluxpanel.fluxos.crypto import base58check_decode

SECRET_CODE = "secret"

# A raw secp256k1 private key is 64 hex digits, but so is every txid, block hash and image digest,
# and a field that asks for a txid must take one. The rule: a run of exactly 64 hex digits (with
# an optional 0x, not part of a longer run of letters or digits) is a key when it is *labelled* as
# one: right after a word naming a key or secret (`key: …`, `privkey=…`, `"secret": "…"`, `seed
# is …`, a JSON value under such a key), or as the whole value of a field so named. A word with
# `pub` or `hash` in it (`pubkey`, `keyhash`) is no such label. An unlabelled 64-hex value passes.
_LABEL_WORDS = ("priv", "prv", "secret", "seed", "key", "wif", "mnemonic")
_NOT_LABEL_WORDS = ("pub", "hash")
_LABEL = r"(?<![A-Za-z0-9_-])([A-Za-z0-9_-]*(?:" + "|".join(_LABEL_WORDS) + r")[A-Za-z0-9_-]*)"
_HEX64 = r"(?<![0-9A-Za-z])(?:0[xX])?[0-9a-fA-F]{64}(?![0-9A-Za-z])"
_LABELLED_HEX = re.compile(_LABEL + r"(?:\s+is\b)?[\s\"'`:=\[({]{0,8}" + _HEX64, re.IGNORECASE)
_WHOLE_HEX = re.compile(r"(?:0[xX])?[0-9a-fA-F]{64}")
_FIELD_LABEL = re.compile(r"[A-Za-z0-9_-]*(?:" + "|".join(_LABEL_WORDS) + r")[A-Za-z0-9_-]*",
                          re.IGNORECASE)
_BASE58_TOKEN = re.compile(r"[1-9A-HJ-NP-Za-km-z]{50,120}")
# Words of any script once accents are folded (see _fold): letters only, no digits. U+FFFD counts
# as a letter: the `mnemonic` package's Russian list has a word with two of them ("сно\ufffd\ufffdа"),
# and a seed drawn from that list must still read as twelve words, not thirteen.
_WORD = re.compile(r"[^\W\d_]+(?:\ufffd+[^\W\d_]*)*")
_XPRV_PREFIXES = ("xprv", "tprv", "yprv", "zprv", "uprv", "vprv", "Yprv", "Zprv", "Uprv", "Vprv")
_WIF_VERSIONS = (0x80, 0xEF)  # mainnet (Bitcoin and Flux alike) and testnet
SEED_MIN_WORDS = 12
SHORTEST_SECRET = 20  # 12 one-character words (Chinese) and 11 spaces make 23

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


def _fold(text: str) -> str:
    """Lowercase without accents or other marks, so `cafe` and `café` are one word (people type
    seed words without accents; BIP39 itself compares NFKD forms)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=1)
def _bip39_wordlists() -> tuple[frozenset[str], ...]:
    """Every BIP39 wordlist the `mnemonic` package has (English, Japanese, Spanish, Chinese …)."""
    from mnemonic import Mnemonic

    return tuple(frozenset(_fold(word) for word in Mnemonic(language).wordlist)
                 for language in Mnemonic.list_languages())


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
    """The most consecutive words of one wordlist (a seed is all of one language). Chinese seed
    words are single characters: they count when written apart (as wallets show them)."""
    words = _WORD.findall(_fold(text))
    longest = 0
    for wordlist in _bip39_wordlists():
        run = 0
        for word in words:
            run = run + 1 if word in wordlist else 0
            longest = max(longest, run)
    return longest


def _is_label(word: str) -> bool:
    lowered = word.lower()
    return not any(part in lowered for part in _NOT_LABEL_WORDS)


def _labelled_hex(text: str, name: str, hex_field: bool) -> bool:
    field_says_key = hex_field or (name and _FIELD_LABEL.fullmatch(name) and _is_label(name))
    if field_says_key and _WHOLE_HEX.fullmatch(text):
        return True
    return any(_is_label(match.group(1)) for match in _LABELLED_HEX.finditer(text))


# A name (an environment variable, a field) that says its value is a secret: one of these words
# anywhere, or a part of the name ending in KEY (API_KEY, PRIVKEY; not KEYBOARD_LAYOUT).
_SECRET_NAME = re.compile(r"PASS|SECRET|TOKEN|PRIVATE|SEED|MNEMONIC|WIF|CREDENTIAL|KEY(?![A-Z])")


def secret_name(name: str) -> bool:
    """Whether `name` says its value is a secret (so it is masked, or refused)."""
    return isinstance(name, str) and bool(_SECRET_NAME.search(name.upper()))


def find_secret(value, name: str = "", *, hex_field: bool = False) -> str | None:
    """The kind of secret `value` looks like ('hex', 'wif', 'xprv', 'seed'), or None. `name` is
    the field's name: a 64-hex value alone counts as a key only in a field named like one, or
    with `hex_field` (a field that never takes a hash, such as an address or a signature)."""
    if not isinstance(value, str) or len(value.strip()) < SHORTEST_SECRET:
        return None
    text = value.strip()
    if _labelled_hex(text, name if isinstance(name, str) else "", hex_field):
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
    # Fields that never take a txid or hash (addresses, signatures): 64 hex there is a key.
    bare_hex_is_key: tuple[str, ...] = ()

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
                kind = find_secret(value, name, hex_field=name in self.bare_hex_is_key)
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
