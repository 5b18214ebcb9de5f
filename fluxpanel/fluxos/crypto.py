"""Small byte-level helpers that behave like the Node.js pieces FluxOS verifies with.

FluxOS runs on Node, so a few "obvious" conversions are not the Python ones:

* ``Buffer.from(text, "base64")`` is lenient (see :func:`node_base64_decode`);
* ``Buffer.from(text, "hex")`` stops at the first bad pair (:func:`node_hex_decode`);
* ``Buffer.from(text, "utf8")`` turns lone UTF-16 surrogates into U+FFFD (:func:`js_utf8`);
* string lengths and indexes count UTF-16 code units (:func:`js_length`, :func:`utf16_units`).

Everything here is framework-free and has no state, so nothing can be cached wrongly.
"""

from __future__ import annotations

import binascii
import hashlib
import re

from Crypto.Hash import RIPEMD160, keccak

__all__ = [
    "JS_WHITESPACE",
    "base58_encode",
    "base58check_decode",
    "base58check_encode",
    "double_sha256",
    "hash160",
    "js_length",
    "js_utf8",
    "keccak256",
    "node_base64_decode",
    "node_hex_decode",
    "sha256",
    "utf16_units",
]


# --- hashes -------------------------------------------------------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def double_sha256(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def _ripemd160_with_hashlib(data: bytes) -> bytes:
    return hashlib.new("ripemd160", data).digest()


def _ripemd160_with_pycryptodome(data: bytes) -> bytes:
    return RIPEMD160.new(data).digest()


try:  # OpenSSL 3 builds may lack RIPEMD-160 unless the legacy provider is loaded.
    hashlib.new("ripemd160", b"")
    _ripemd160 = _ripemd160_with_hashlib
except ValueError:  # pragma: no cover - depends on the OpenSSL build
    _ripemd160 = _ripemd160_with_pycryptodome


def hash160(data: bytes) -> bytes:
    """RIPEMD160(SHA256(data)), the Bitcoin public-key hash."""
    return _ripemd160(hashlib.sha256(data).digest())


def keccak256(data: bytes) -> bytes:
    """Ethereum's Keccak-256 (not NIST SHA3-256: the padding differs)."""
    return keccak.new(digest_bits=256, data=data).digest()


# --- base58check ------------------------------------------------------------------------

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_VALUES = {char: index for index, char in enumerate(_B58_ALPHABET)}


def base58_encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_B58_ALPHABET[remainder])
    leading_zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading_zeros + "".join(reversed(digits))


def base58check_encode(payload: bytes) -> str:
    return base58_encode(payload + double_sha256(payload)[:4])


def base58check_decode(text: str) -> bytes | None:
    """The payload (version bytes included) of a base58check string, or None when it is invalid.

    Like ``bs58check.decode``: every character must be in the alphabet (a space, "0", "O", "I",
    "l" or any non-ASCII character is an error) and the 4-byte double-SHA256 checksum must match.
    """
    number = 0
    for char in text:
        value = _B58_VALUES.get(char)
        if value is None:
            return None
        number = number * 58 + value
    leading_zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    raw = b"\0" * leading_zeros + body
    if len(raw) < 4:
        return None
    payload, checksum = raw[:-4], raw[-4:]
    if double_sha256(payload)[:4] != checksum:
        return None
    return payload


# --- JavaScript string semantics ------------------------------------------------------------

# What JS trims and what its regex \s matches (Python's str.isspace differs: \x1c-\x1f, \x85).
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def utf16_units(text: str) -> str:
    """``text`` with every astral character split into its two UTF-16 surrogates.

    JS strings are sequences of UTF-16 code units; indexing, ``length``, ``substring`` and
    ``charCodeAt`` all work on units. Doing the same split in Python lets us reuse slicing.
    """
    if text.isascii() or max(text) < "\U00010000":
        return text
    units = []
    for char in text:
        code = ord(char)
        if code < 0x10000:
            units.append(char)
        else:
            code -= 0x10000
            units.append(chr(0xD800 + (code >> 10)) + chr(0xDC00 + (code & 0x3FF)))
    return "".join(units)


def js_length(text: str) -> int:
    """JS ``text.length`` (UTF-16 code units)."""
    if text.isascii():
        return len(text)
    return len(utf16_units(text))


def js_utf8(text: str) -> bytes:
    """``Buffer.from(text, "utf8")``: UTF-8, with any unpaired surrogate replaced by U+FFFD."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Surrogates present: pair up the valid ones as JS would, replace the lone ones.
        units = text.encode("utf-16-le", "surrogatepass")
        return units.decode("utf-16-le", "replace").encode("utf-8")


# --- Node's lenient decoders ------------------------------------------------------------------

_BASE64_VALUES = [255] * 256
for _index, _char in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"):
    _BASE64_VALUES[ord(_char)] = _index
_BASE64_VALUES[ord("-")] = 62  # Node accepts the URL-safe alphabet in the same decoder
_BASE64_VALUES[ord("_")] = 63
_BASE64_EQUALS = ord("=")
_URL_SAFE_TO_STANDARD = str.maketrans("-_", "+/")
_CANONICAL_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def node_base64_decode(text: str) -> bytes:
    """``Buffer.from(text, "base64")`` exactly as Node decodes it.

    Node never throws here: it takes the characters of both alphabets (``+/`` and ``-_``),
    silently skips anything else (whitespace, ``!``, ``*``...), stops at the first ``=``,
    and drops a last group of a single character. Each UTF-16 code unit is first truncated
    to its low byte (Node's decoder reads ``uint8_t(c)``), which we reproduce too.
    """
    canonical = text.translate(_URL_SAFE_TO_STANDARD)
    if len(canonical) % 4 == 0 and _CANONICAL_BASE64.fullmatch(canonical):
        return binascii.a2b_base64(canonical)  # the usual case, 20x faster than the loop below
    sextets = []
    for char in text:
        code = ord(char)
        if code > 0xFFFF:  # an astral char is two surrogate units; their low bytes count
            code -= 0x10000
            low_bytes = ((0xD800 + (code >> 10)) & 0xFF, (0xDC00 + (code & 0x3FF)) & 0xFF)
        else:
            low_bytes = (code & 0xFF,)
        stop = False
        for byte in low_bytes:
            value = _BASE64_VALUES[byte]
            if value < 64:
                sextets.append(value)
            elif byte == _BASE64_EQUALS:
                stop = True
                break
        if stop:
            break
    out = bytearray()
    for start in range(0, len(sextets) - 1, 4):
        group = sextets[start : start + 4]
        out.append(((group[0] << 2) | (group[1] >> 4)) & 0xFF)
        if len(group) > 2:
            out.append(((group[1] << 4) | (group[2] >> 2)) & 0xFF)
        if len(group) > 3:
            out.append(((group[2] << 6) | group[3]) & 0xFF)
    return bytes(out)


def _hex_value(byte: int) -> int:
    if 48 <= byte <= 57:
        return byte - 48
    if 97 <= byte <= 102:
        return byte - 87
    if 65 <= byte <= 70:
        return byte - 55
    return -1


def node_hex_decode(text: str) -> bytes:
    """``Buffer.from(text, "hex")``: pairs of hex digits until the first bad pair; an odd last
    digit is dropped. Code units are truncated to their low byte, as in Node's decoder."""
    units = utf16_units(text)
    out = bytearray()
    for start in range(0, len(units) - 1, 2):
        high = _hex_value(ord(units[start]) & 0xFF)
        low = _hex_value(ord(units[start + 1]) & 0xFF)
        if high < 0 or low < 0:
            break
        out.append((high << 4) | low)
    return bytes(out)
