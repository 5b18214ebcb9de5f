"""Deterministic throw-away test keys for the simulated Flux fleet.

Private key = sha256(label). The fleet draws node owners and app owners from OWNER_LABELS, so a
test can sign as the owner of any simulated node or app: look up the owner's ZelID in the fleet,
then `key_for_zelid(zelid).sign(message)`. The crypto itself lives in fluxpanel.fluxos.signatures
(imported lazily so this module loads even before that one exists).

These keys guard nothing: they are public by construction and only ever sign test phrases.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from functools import cache

OWNER_LABELS = tuple(f"fluxpanel-sim-owner-{n}" for n in range(4))
USER_LABEL = "fluxpanel-sim-user"
TEAM_LABEL = "fluxpanel-sim-flux-team"
STRANGER_LABEL = "fluxpanel-sim-stranger"


@dataclass(frozen=True)
class TestKey:
    label: str
    kind: str = "btc"  # "btc" → a 1… ZelID; "eth" → a 0x… ZelID

    __test__ = False  # not a pytest class

    @property
    def private_key_hex(self) -> str:
        return hashlib.sha256(self.label.encode()).hexdigest()

    @property
    def zelid(self) -> str:
        return _address(self.private_key_hex, self.kind)

    def sign(self, message: str) -> str:
        from fluxpanel.fluxos.signatures import sign_message

        return sign_message(message, self.private_key_hex, kind=self.kind)

    def phrase(self, now_ms: int | None = None, *, age_ms: int = 0) -> str:
        """A self-issued phrase (13-digit ms timestamp + base36 text, as FluxOS makes them), for the
        stateless user/appowner rules; `age_ms` back-dates it."""
        stamp = (now_ms if now_ms is not None else int(time.time() * 1000)) - age_ms
        return f"{stamp}{_base36(secrets.randbits(212)).rjust(41, '0')}"

    def auth(self, login_phrase: str) -> dict:
        """The zelidauth triple for a phrase this key signs now."""
        return {"zelid": self.zelid, "signature": self.sign(login_phrase), "loginPhrase": login_phrase}

    def auth_header(self, login_phrase: str) -> str:
        return json.dumps(self.auth(login_phrase), separators=(",", ":"))


@cache
def _address(private_key_hex: str, kind: str) -> str:
    from fluxpanel.fluxos.signatures import address_from_private_key

    return address_from_private_key(private_key_hex, kind=kind)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rem = divmod(number, 36)
        out = digits[rem] + out
    return out or "0"


OWNERS = tuple(TestKey(label) for label in OWNER_LABELS)
USER = TestKey(USER_LABEL)
TEAM = TestKey(TEAM_LABEL)
STRANGER = TestKey(STRANGER_LABEL)
ETH_USER = TestKey("fluxpanel-sim-eth-user", kind="eth")


def owner_zelids() -> list[str]:
    return [key.zelid for key in OWNERS]


def key_for_zelid(zelid: str) -> TestKey:
    for key in (*OWNERS, USER, TEAM, STRANGER, ETH_USER):
        if key.zelid == zelid:
            return key
    raise KeyError(f"no test key for {zelid}")
