"""Encryption at rest for secrets the panel must keep (node sessions, engine tokens).

Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from settings.ENCRYPTION_KEY, which comes
from the environment (FLUXPANEL_ENCRYPTION_KEY) or a generated file under the data folder — never
from the database, so a copy of the database alone reveals nothing.
"""
from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

__all__ = ["InvalidToken", "decrypt", "encrypt"]


@lru_cache(maxsize=4)
def _fernet(secret: str) -> Fernet:
    key = hashlib.sha256(b"fluxpanel vault v1\x00" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(plaintext: str) -> str:
    return _fernet(settings.ENCRYPTION_KEY).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Raises InvalidToken when the value was tampered with or the key changed."""
    return _fernet(settings.ENCRYPTION_KEY).decrypt(token.encode()).decode()
