"""What a ZelID is, and how two spellings of one are compared.

FluxOS admits two identity forms (reference wallets.md §0): a Bitcoin P2PKH ``1…`` address and an
EVM ``0x…`` address. EVM addresses come in any letter case (MetaMask answers lowercase, other
wallets EIP-55), and FluxOS compares the signature case-insensitively but the *admin/owner* checks
exactly; so we keep the spelling we were given and compare through a normalised key.
"""
from __future__ import annotations

import re

from fluxpanel.fluxos.crypto import base58check_decode

_ETH = re.compile(r"0[xX][0-9a-fA-F]{40}")
_BASE58 = re.compile(r"1[1-9A-HJ-NP-Za-km-z]{24,33}")

BTC = "btc"
ETH = "eth"


def zelid_key(zelid: str) -> str:
    """The form two spellings of one ZelID share: EVM lowercased, Bitcoin untouched."""
    zelid = (zelid or "").strip()
    if _ETH.fullmatch(zelid):
        return "0x" + zelid[2:].lower()
    return zelid


def zelid_kind(zelid: str) -> str:
    return ETH if zelid_key(zelid).startswith("0x") else BTC


def is_zelid(text: str) -> bool:
    """A ``1…`` P2PKH address with a valid checksum, or ``0x`` + 40 hex (what FluxOS logs in)."""
    text = (text or "").strip()
    if _ETH.fullmatch(text):
        return text.startswith("0x")  # FluxOS sends `0X…` down the Bitcoin path, where it fails
    if not _BASE58.fullmatch(text):
        return False
    payload = base58check_decode(text)
    return payload is not None and len(payload) == 21 and payload[0] == 0


def same_zelid(first: str, second: str) -> bool:
    return bool(first) and bool(second) and zelid_key(first) == zelid_key(second)
