"""FluxOS-exact message signature verification (and signing for tests and simulators).

:func:`verify_message` reproduces ``signatureVerifier.verifySignature(message, address,
signature)`` of FluxOS v8.17.0, the check behind logins, ``zelidauth`` sessions and app
owner signatures. It dispatches like FluxOS:

* an address starting with lowercase ``"0x"`` -> Ethereum ``personal_sign`` recovery through
  ``nano-ethereum-signer`` (:func:`_verify_ethereum`), compared case-insensitively;
* anything else -> ``bitcoinjs-message`` 2.2.0 ``verify`` with the default
  ``"\\x18Bitcoin Signed Message:\\n"`` magic and no ``checkSegwitAlways``
  (:func:`_verify_bitcoin`). An "address" longer than 36 characters is first taken as a hex
  public key and turned into a version-0x00 P2PKH address.

Quirks reproduced on purpose (each is what FluxOS really does, shown by the oracle vectors):

* lenient Node base64 decoding of the signature (URL-safe alphabet, whitespace and stray
  characters ignored, missing padding fine); anything but 65 decoded bytes fails;
* the address version byte is ignored: only ``base58check payload[1:]`` is compared with the
  hash160, so ``3...``/``m...``/``n...`` addresses carrying the key's hash160 verify, and
  two-byte-version Flux ``t1...``/``t3...`` addresses can never verify (21-byte remainder);
* header 27-30 uncompressed key, 31-34 compressed, 35-38 P2SH-P2WPKH (compares the redeem
  script hash, so only a matching ``3...`` address passes), 39-42 P2WPKH (needs a bech32
  address, which can never reach that code in FluxOS -> always false), anything else false;
* ``bc1...`` addresses are longer than 36 characters, so they are mangled by the public-key
  branch and always fail; ``0X...`` (capital X) goes to the bitcoin branch and fails;
* no low-s rule anywhere, ``r``/``s`` just have to recover a key;
* Ethereum: the signature's first two characters are dropped blindly (so it must start with
  ``0x``), ``r``/``s`` are the next 64+64 characters parsed by an old, lenient ``bn.js``,
  ``v`` is *all* the remaining characters read with ``parseInt(.., 16)``, and the recovery id
  is ``v`` if ``v < 2`` else ``1 - v % 2`` (27/28, 0/1 and 37/38 all work; a 64-byte
  signature or a trailing extra byte fails);
* Ethereum message hashing is FluxOS's own (:func:`fluxos_eth_message_hash`): identical to
  EIP-191 for printable ASCII only; non-ASCII or control characters give another digest, so a
  standard wallet signature over such a message is rejected (see
  :func:`eth_message_is_standard`).

:func:`verify_message` never raises: every failure is ``False``, as in FluxOS.
"""

from __future__ import annotations

import base64
import math
import re

from coincurve import PrivateKey, PublicKey

from .crypto import (
    JS_WHITESPACE,
    base58check_decode,
    base58check_encode,
    double_sha256,
    hash160,
    js_length,
    js_utf8,
    keccak256,
    node_base64_decode,
    node_hex_decode,
    utf16_units,
)

__all__ = [
    "address_from_private_key",
    "bitcoin_message_hash",
    "eth_message_is_standard",
    "fluxos_eth_message_hash",
    "sign_message",
    "verify_message",
]

BITCOIN_MESSAGE_MAGIC = b"\x18Bitcoin Signed Message:\n"
ETHEREUM_MESSAGE_PREFIX = b"\x19Ethereum Signed Message:\n"

# secp256k1 group order and field prime
_CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_FIELD_PRIME = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F

# FluxOS treats a longer "address" as a hex public key (signatureVerifier.js)
_PUBKEY_ADDRESS_MIN_LENGTH = 37


# --- public API ---------------------------------------------------------------------------


def verify_message(message: str, address: str, signature: str) -> bool:
    """FluxOS ``signatureVerifier.verifySignature``: True when ``signature`` signs ``message``
    for ``address`` by FluxOS's rules (see the module docstring for every quirk kept).

    Never raises; any input, including non-strings, gives a bool.
    """
    try:
        if not (isinstance(message, str) and isinstance(address, str)):
            return False
        if not isinstance(signature, str):
            return False
        if not message or not address or not signature:
            return False  # FluxOS: 'Missing parameters for message verification'
        if address.startswith("0x"):
            return _verify_ethereum(message, address, signature)
        return _verify_bitcoin(message, address, signature)
    except Exception:  # FluxOS logs any error and returns false
        return False


def sign_message(
    message: str, private_key_hex: str, *, kind: str = "btc", compressed: bool = True
) -> str:
    """Sign ``message`` so that :func:`verify_message` (and FluxOS) accepts it.

    ``kind="btc"``: base64 compact signature over the Bitcoin magic hash, RFC 6979
    deterministic (byte-identical to ``bitcoinjs-message.sign`` without extra entropy),
    header ``31 + recid`` if ``compressed`` else ``27 + recid``.

    ``kind="eth"``: ``"0x" + r + s + v`` (v = 27/28) over :func:`fluxos_eth_message_hash`.
    For printable-ASCII messages this is exactly what MetaMask's ``personal_sign`` produces;
    for other messages it is a signature over FluxOS's non-standard digest, which no wallet
    would produce but FluxOS accepts. For tests and simulators only.

    An empty message is signed but can never verify (FluxOS rejects empty messages).
    """
    key = _private_key(private_key_hex)
    if kind == "btc":
        recoverable = key.sign_recoverable(bitcoin_message_hash(message), hasher=None)
        header = 27 + recoverable[64] + (4 if compressed else 0)
        return base64.b64encode(bytes([header]) + recoverable[:64]).decode("ascii")
    if kind == "eth":
        recoverable = key.sign_recoverable(fluxos_eth_message_hash(message), hasher=None)
        return "0x" + (recoverable[:64] + bytes([27 + recoverable[64]])).hex()
    raise ValueError(f"unknown signature kind {kind!r} (expected 'btc' or 'eth')")


def address_from_private_key(
    private_key_hex: str, *, kind: str = "btc", compressed: bool = True
) -> str:
    """The ZelID of a private key: ``1...`` BTC P2PKH (compressed or not) or an EIP-55
    checksummed ``0x...`` Ethereum address."""
    public_key = _private_key(private_key_hex).public_key
    if kind == "btc":
        return base58check_encode(b"\x00" + hash160(public_key.format(compressed=compressed)))
    if kind == "eth":
        return _eip55(keccak256(public_key.format(compressed=False)[1:])[-20:].hex())
    raise ValueError(f"unknown address kind {kind!r} (expected 'btc' or 'eth')")


def bitcoin_message_hash(message: str) -> bytes:
    """``bitcoinjs-message`` ``magicHash``: double SHA-256 of magic + varint(len) + UTF-8 bytes."""
    payload = js_utf8(message)
    return double_sha256(BITCOIN_MESSAGE_MAGIC + _compact_size(len(payload)) + payload)


def fluxos_eth_message_hash(message: str) -> bytes:
    """FluxOS ``ethereumHelper.hashMessage``: keccak256 of the EIP-191 prefix and FluxOS's
    own "bytes" of the message.

    FluxOS writes every UTF-16 code unit as hex *without zero padding* and then reads the
    concatenation back two hex digits at a time. That equals UTF-8 only when every unit is in
    0x10..0x7F; a ``\\n`` (one digit), ``é`` (one byte instead of two) or ``€`` (three digits)
    shifts or changes the bytes.
    """
    payload = _fluxos_eth_message_bytes(message)
    return keccak256(ETHEREUM_MESSAGE_PREFIX + str(len(payload)).encode("ascii") + payload)


def eth_message_is_standard(message: str) -> bool:
    """True when FluxOS's Ethereum digest of ``message`` equals the standard EIP-191 one, i.e.
    a MetaMask/WalletConnect ``personal_sign`` signature of it will verify on FluxOS. The UI
    should warn (and refuse Ethereum signing) when this is False."""
    return _fluxos_eth_message_bytes(message) == js_utf8(message)


# --- bitcoin path (bitcoinjs-message 2.2.0 verify) -----------------------------------------


def _verify_bitcoin(message: str, address: str, signature: str) -> bool:
    expected_hash = _expected_pubkey_hash(address)
    if expected_hash is None:
        return False
    raw = node_base64_decode(signature)
    if len(raw) != 65:
        return False  # 'Invalid signature length'
    flag = raw[0] - 27
    if not 0 <= flag <= 15:
        return False  # 'Invalid signature parameter'
    is_segwit = bool(flag & 8)
    if is_segwit and flag & 4:
        # P2WPKH: bitcoinjs-message bech32-decodes the address. Any bech32 address able to hold
        # 20 bytes has >= 41 characters, so FluxOS has already mangled it (> 36 chars).
        return False
    compressed = bool(flag & 12)
    public_key = PublicKey.from_signature_and_message(
        raw[1:65] + bytes([flag & 3]), bitcoin_message_hash(message), hasher=None
    )
    actual_hash = hash160(public_key.format(compressed=compressed))
    if is_segwit:  # P2SH-P2WPKH: hash of the redeem script 0x0014 <pubkey hash>
        actual_hash = hash160(b"\x00\x14" + actual_hash)
    return actual_hash == expected_hash


def _expected_pubkey_hash(address: str) -> bytes | None:
    """The 20 bytes bitcoinjs-message compares with, or None if the address cannot decode."""
    if js_length(address) >= _PUBKEY_ADDRESS_MIN_LENGTH:
        # pubKeyToAddr(address, '00'): hash160 of whatever Node's hex decoder makes of it.
        return hash160(node_hex_decode(address))
    payload = base58check_decode(address)
    if payload is None or len(payload) != 21:
        return None  # decode error, or a version that is not one byte (t1..., t3...)
    return payload[1:]  # the version byte is deliberately not checked


def _compact_size(length: int) -> bytes:
    if length < 0xFD:
        return bytes([length])
    if length <= 0xFFFF:
        return b"\xfd" + length.to_bytes(2, "little")
    if length <= 0xFFFFFFFF:
        return b"\xfe" + length.to_bytes(4, "little")
    return b"\xff" + length.to_bytes(8, "little")


# --- ethereum path (ethereumHelper.recoverSigner + nano-ethereum-signer 0.1.2) --------------


def _verify_ethereum(message: str, address: str, signature: str) -> bool:
    units = utf16_units(signature)
    # nano-ethereum-signer drops the first two characters without looking at them.
    recovery_id = _nano_recovery_id(_js_parse_hex_int(units[130:]))
    if recovery_id is None:
        return False  # 'The recovery param is more than two bits'
    r_text, s_text = units[2:66], units[66:130]
    if not r_text or not s_text:
        return False  # 'Signature without r or s'
    r_value, s_value = _lenient_bn_hex(r_text), _lenient_bn_hex(s_text)
    compact = _coincurve_compact(r_value, s_value, recovery_id)
    if compact is None:
        return False
    public_key = PublicKey.from_signature_and_message(
        compact, fluxos_eth_message_hash(message), hasher=None
    )
    signer = "0x" + keccak256(public_key.format(compressed=False)[1:])[-20:].hex()
    return signer == address.lower()


def _fluxos_eth_message_bytes(message: str) -> bytes:
    if message.isascii() and (not message or min(message) >= "\x10"):
        return message.encode("ascii")  # every unit is exactly two hex digits
    hex_text = "".join(format(ord(unit), "x") for unit in utf16_units(message))
    # parseInt of each two-digit slice; an odd last digit becomes a byte on its own
    return bytes(int(hex_text[start : start + 2], 16) for start in range(0, len(hex_text), 2))


_HEX_PREFIX_DIGITS = re.compile(r"[0-9a-fA-F]*")


def _js_parse_hex_int(text: str) -> float:
    """JS ``parseInt(text, 16)``: leading whitespace, optional sign, optional 0x, then the
    longest run of hex digits; NaN when there is none. Returns a float like JS (inf when huge)."""
    text = text.lstrip(JS_WHITESPACE)
    sign = 1.0
    if text[:1] in ("+", "-"):
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    if text[:2] in ("0x", "0X"):
        text = text[2:]
    digits = _HEX_PREFIX_DIGITS.match(text).group()
    if not digits:
        return math.nan
    try:
        magnitude = float(int(digits, 16))
    except OverflowError:
        magnitude = math.inf
    return sign * magnitude


def _nano_recovery_id(v: float) -> int | None:
    """``v < 2 ? v : 1 - v % 2`` then elliptic's ``(3 & j) === j`` assertion."""
    if math.isnan(v):
        return None
    if v < 2:
        return int(v) if v in (0.0, 1.0) else None  # -0 passes as 0; negatives fail
    if math.isinf(v):
        return None  # Infinity % 2 is NaN
    return 1 - int(math.fmod(v, 2.0))


_BN_STRIPPED = re.compile("[" + JS_WHITESPACE + "]+")  # JS /\s+/g, not Python's \s
_PLAIN_HEX = re.compile(r"[0-9a-fA-F]+")


def _lenient_bn_hex(text: str) -> int:
    """The value the bundled old ``bn.js`` gives ``new BN(text, 16)``: whitespace removed, a
    leading ``-`` makes it negative, and *any* other character counts as the nibble
    ``(charCode - 48) & 15`` instead of being rejected."""
    text = _BN_STRIPPED.sub("", text)
    negative = text.startswith("-")
    if negative:
        text = text[1:]
    if _PLAIN_HEX.fullmatch(text):
        value = int(text, 16)
    else:
        value = 0
        for char in text:
            value = (value << 4) | _lenient_nibble(ord(char))
    return -value if negative else value


def _lenient_nibble(code: int) -> int:
    offset = code - 48
    if 49 <= offset <= 54:
        return offset - 39  # 'a'..'f'
    if 17 <= offset <= 22:
        return offset - 7  # 'A'..'F'
    return offset & 0xF


def _coincurve_compact(r_value: int, s_value: int, recovery_id: int) -> bytes | None:
    """Express elliptic's ``recoverPubKey(hash, {r, s}, j)`` as a libsecp256k1 compact
    recoverable signature, or None where elliptic could not recover a matching key.

    elliptic uses the point with x = r mod p and the scalars r mod n and s mod n, without
    range checks: s >= n or negative s is reduced; r in [n, p) is libsecp256k1's
    "second key" (recid + 2) with r - n.
    """
    if r_value <= 0 or r_value >= _FIELD_PRIME or r_value == _CURVE_ORDER:
        return None  # negative r throws; r = 0 or n has no inverse; r >= p is a garbage point
    s_scalar = s_value % _CURVE_ORDER
    if s_scalar == 0:
        return None  # elliptic returns -e/r*G, a key nobody holds
    if r_value > _CURVE_ORDER:
        r_value -= _CURVE_ORDER
        recovery_id += 2
    return r_value.to_bytes(32, "big") + s_scalar.to_bytes(32, "big") + bytes([recovery_id])


def _eip55(hex_address: str) -> str:
    lower = hex_address.lower()
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(
        char.upper() if int(digest[index], 16) >= 8 else char for index, char in enumerate(lower)
    )


def _private_key(private_key_hex: str) -> PrivateKey:
    text = private_key_hex[2:] if private_key_hex.startswith(("0x", "0X")) else private_key_hex
    raw = bytes.fromhex(text)
    if len(raw) != 32:
        raise ValueError("a private key is 32 bytes (64 hex characters)")
    return PrivateKey(raw)
