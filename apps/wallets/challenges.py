"""The panel's own challenges: sign in with a wallet, and link a ZelID to an account (the reads
and checks; issuing and completing them are actions, apps.wallets.actions).

A challenge is timestamped, single use, lives 15 minutes and is bound to the browser that asked for
it. Its text is a *panel message* (apps.wallets.phrases): it starts with a letter and is longer
than 70 characters, so a signature over it can never be replayed to a Flux node as a `zelidauth`
session (FluxOS accepts self-issued phrases of 40-70 characters), and no node can pass it off as
its login phrase.

The browser is known by a random value in its own cookie (`BINDING_COOKIE`), not by a session: an
anonymous visitor asking for a sign-in message costs no session row (a session starts only when
the signature signs someone in).
"""
from __future__ import annotations

import hashlib
import re
import secrets

from django.utils import timezone

from apps.wallets.kinds import SignRefused
from apps.wallets.models import Challenge, WalletIdentity
from apps.wallets.phrases import panel_message
from apps.wallets.zelids import is_zelid, zelid_key
from fluxpanel.fluxos.signatures import verify_message

Purpose = Challenge.Purpose
BINDING_COOKIE = "fluxpanel_wallet"
_BINDING = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
_NEW_BINDING = "_fluxpanel_wallet_binding"


# --------------------------------------------------------------------------- the browser


def browser_binding(request) -> str:
    """This browser's binding value (a new one when it has none: `remember_binding` sets it)."""
    value = request.COOKIES.get(BINDING_COOKIE, "")
    if _BINDING.fullmatch(value):
        return value
    if not getattr(request, _NEW_BINDING, None):
        setattr(request, _NEW_BINDING, secrets.token_urlsafe(32))
    return getattr(request, _NEW_BINDING)


def binding_hash(request) -> str:
    """What a challenge stores: a hash of the binding (the value itself is a credential)."""
    return hashlib.sha256(browser_binding(request).encode()).hexdigest()


def remember_binding(request, response):
    """Give the browser its binding cookie when this request made one."""
    value = getattr(request, _NEW_BINDING, None)
    if value:
        response.set_cookie(BINDING_COOKIE, value, max_age=int(Challenge.LIFE.total_seconds()) + 300,
                            path="/wallet/", secure=request.is_secure(), httponly=True,
                            samesite="Lax")
    return response


# --------------------------------------------------------------------------- the message


def _ascii(text: str) -> str:
    # EVM wallets sign UTF-8, FluxOS-style verification hashes non-ASCII differently: keep ASCII.
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)


def build_message(purpose: str, *, host: str, username: str = "", now=None) -> str:
    now = now or timezone.now()
    stamp = f"{now:%Y-%m-%d %H:%M:%S} UTC ({int(now.timestamp() * 1000)})"
    nonce = secrets.token_hex(16)
    if purpose == Purpose.SIGN_IN:
        what = f"Sign in to fluxpanel at {_ascii(host)} with this address."
    else:
        what = f"Link this address to the fluxpanel account {_ascii(username)} at {_ascii(host)}."
    return panel_message(f"{what} Issued {stamp}, valid 15 minutes, once. Nonce {nonce}. "
                         "This signature gives no access to any Flux node.")


def for_browser(request, token: str, purpose: str | None = None) -> Challenge | None:
    """The challenge only if this very browser (and, for linking, this very user) asked for it."""
    if not isinstance(token, str) or len(token) > 64:
        return None
    challenge = Challenge.objects.filter(token=token, session_hash=binding_hash(request)).first()
    if challenge is None or (purpose and challenge.purpose != purpose):
        return None
    if challenge.purpose == Purpose.BIND and challenge.user_id != getattr(request.user, "pk", None):
        return None
    return challenge


# --------------------------------------------------------------------------- checks


def check(challenge: Challenge, *, address: str, message: str, signature: str) -> None:
    """Raise SignRefused with its own message per reason; changes nothing."""
    if challenge.used_at or challenge.proven_zelid:
        raise SignRefused("This message was already used: each message is accepted once. Get a "
                          "new message.", "used", 409)
    if challenge.is_expired:
        raise SignRefused("This message expired (messages live 15 minutes). Get a new message and "
                          "sign again.", "expired", 410)
    if message != challenge.message:
        raise SignRefused("The message was changed: sign exactly the message shown, without "
                          "editing, adding or removing anything (spaces count).", "message_changed")
    if not is_zelid(address):
        raise SignRefused("That is not a ZelID: use a 1… address (ZelCore, SSP) or an 0x… address "
                          "(MetaMask and other EVM wallets).", "not_zelid")
    if not verify_message(challenge.message, address, signature):
        raise SignRefused(f"The signature is not valid for this message and {address}. Sign the "
                          "exact message with that address and try again.", "bad_signature")


def account_for(zelid: str) -> WalletIdentity:
    identity = WalletIdentity.objects.select_related("user").filter(zelid_key=zelid_key(zelid)).first()
    if identity is None or not identity.user.is_active:
        raise SignRefused(f"No account is linked to {zelid}. Sign in with your password once and "
                          "link this ZelID on the Wallet page.", "unknown_zelid", 403)
    return identity


def check_bindable(challenge: Challenge, zelid: str) -> None:
    existing = WalletIdentity.objects.filter(zelid_key=zelid_key(zelid)).first()
    if existing is not None and existing.user_id != challenge.user_id:
        raise SignRefused(f"{zelid} is already linked to another account of this panel; unlink it "
                          "there first.", "linked_elsewhere", 409)


def poll(request, challenge: Challenge) -> dict:
    """What the waiting page should do now; completes a challenge ZelCore has signed."""
    from apps.wallets.actions import complete_challenge

    if challenge.used_at:
        return {"status": "done", "message": "Already done."}
    if challenge.proven_zelid:
        try:
            return {"status": "done",
                    "message": complete_challenge(request, challenge, challenge.proven_zelid)}
        except SignRefused as refused:
            return {"status": "error", "message": refused.message, "code": refused.code}
    if challenge.is_expired:
        return {"status": "expired", "message": "This message expired (messages live 15 minutes). "
                                                "Get a new message and sign again."}
    if challenge.callback_error:
        return {"status": "error", "message": challenge.callback_error}
    return {"status": "pending"}
