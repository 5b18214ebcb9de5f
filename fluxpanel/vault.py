"""Encryption at rest for the secrets the panel must keep (node sessions, app-owner
authorisations, engine tokens).

Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from settings.ENCRYPTION_KEY, which comes
from the environment (FLUXPANEL_ENCRYPTION_KEY) or a 0600 file under the data folder — never from
the database, so a copy of the database alone reveals nothing. Each use names a `purpose`, and
each purpose gets its own derived key (HKDF info), so a token of one kind can never be opened as
another.
"""
from __future__ import annotations

import base64
import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

__all__ = ["InvalidToken", "VaultError", "decrypt", "encrypt", "seal", "unseal"]

DEFAULT_PURPOSE = "panel"


class VaultError(Exception):
    """A sealed value could not be opened: another key, another purpose, or tampered with."""


@lru_cache(maxsize=16)
def _fernet(secret: str, purpose: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"fluxpanel-vault-v1", info=purpose.encode()
    ).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(plaintext: str, *, purpose: str = DEFAULT_PURPOSE) -> str:
    return _fernet(settings.ENCRYPTION_KEY, purpose).encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str, *, purpose: str = DEFAULT_PURPOSE) -> str:
    """Raises InvalidToken when the value was tampered with, or the key or purpose differs."""
    return _fernet(settings.ENCRYPTION_KEY, purpose).decrypt(token.encode("ascii")).decode()


def seal(data: dict, *, purpose: str = DEFAULT_PURPOSE) -> str:
    """The token to store for `data` (a JSON-able mapping)."""
    return encrypt(json.dumps(data, separators=(",", ":"), sort_keys=True), purpose=purpose)


def unseal(token: str, *, purpose: str = DEFAULT_PURPOSE) -> dict:
    """The mapping sealed in `token`; raises VaultError (never echoing the token)."""
    try:
        return json.loads(decrypt(token, purpose=purpose))
    except (InvalidToken, ValueError, AttributeError, UnicodeError):
        raise VaultError("stored secret cannot be opened with this panel's ENCRYPTION_KEY") from None
