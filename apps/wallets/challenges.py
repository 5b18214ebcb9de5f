"""The panel's own challenges: sign in with a wallet, and link a ZelID to an account.

A challenge is timestamped, single use, lives 15 minutes and is bound to the browser session that
asked for it. Its text is deliberately *not* shaped like a FluxOS login phrase (it is longer than
70 characters and does not start with a timestamp): a signature over it can never be replayed to
a Flux node as a `zelidauth` session (FluxOS accepts self-issued phrases of 40-70 characters).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import login
from django.db import transaction
from django.utils import timezone

from apps.accounts import audit
from apps.accounts.access import current_membership, memberships_of
from apps.wallets.kinds import SignRefused
from apps.wallets.models import Challenge, WalletIdentity
from apps.wallets.zelids import is_zelid, zelid_key, zelid_kind
from fluxpanel.fluxos.signatures import verify_message

Purpose = Challenge.Purpose
KEEP_USED = timedelta(hours=1)
BACKEND = "django.contrib.auth.backends.ModelBackend"


def session_hash(request) -> str:
    """Who asked: a hash of the browser's session key (the key itself is a credential)."""
    if not request.session.session_key:
        request.session.save()
    return hashlib.sha256(request.session.session_key.encode()).hexdigest()


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
    return (f"{what} Issued {stamp}, valid 15 minutes, once. Nonce {nonce}. "
            "This signature gives no access to any Flux node.")


def issue(request, purpose: str) -> Challenge:
    now = timezone.now()
    # Old challenges are worthless; clearing them here keeps the table small without a schedule.
    Challenge.objects.filter(expires_at__lt=now - KEEP_USED).delete()
    user = request.user if request.user.is_authenticated else None
    return Challenge.objects.create(
        purpose=purpose, session_hash=session_hash(request), user=user, created_at=now,
        expires_at=now + Challenge.LIFE,
        message=build_message(purpose, host=request.get_host(),
                              username=user.get_username() if user else "", now=now),
    )


def for_browser(request, token: str, purpose: str | None = None) -> Challenge | None:
    """The challenge only if this very browser (and, for linking, this very user) asked for it."""
    challenge = Challenge.objects.filter(token=token, session_hash=session_hash(request)).first()
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


def _account_for(zelid: str):
    identity = WalletIdentity.objects.select_related("user").filter(zelid_key=zelid_key(zelid)).first()
    if identity is None or not identity.user.is_active:
        raise SignRefused(f"No account is linked to {zelid}. Sign in with your password once and "
                          "link this ZelID on the Wallet page.", "unknown_zelid", 403)
    return identity


def _check_bindable(challenge: Challenge, zelid: str) -> None:
    existing = WalletIdentity.objects.filter(zelid_key=zelid_key(zelid)).first()
    if existing is not None and existing.user_id != challenge.user_id:
        raise SignRefused(f"{zelid} is already linked to another account of this panel; unlink it "
                          "there first.", "linked_elsewhere", 409)


def _claim(challenge: Challenge) -> None:
    if not Challenge.objects.filter(pk=challenge.pk, used_at__isnull=True).update(
            used_at=timezone.now()):
        raise SignRefused("This message was already used: each message is accepted once. Get a "
                          "new message.", "used", 409)


# --------------------------------------------------------------------------- completion


def complete(request, challenge: Challenge, zelid: str) -> str:
    """Finish a verified challenge in this browser: sign in, or link the ZelID."""
    if challenge.purpose == Purpose.SIGN_IN:
        return _sign_in(request, challenge, zelid)
    return _bind(request, challenge, zelid)


def _sign_in(request, challenge: Challenge, zelid: str) -> str:
    identity = _account_for(zelid)
    _claim(challenge)
    user = identity.user
    login(request, user, backend=BACKEND)
    WalletIdentity.objects.filter(pk=identity.pk).update(last_signed_at=timezone.now())
    membership = memberships_of(user).order_by("team__name").first()
    audit.record(team=membership.team if membership else None, actor=user, action="wallet.signin",
                 target=identity, zelid=identity.zelid)
    return f"Signed in as {user.get_username()} with {identity.zelid}."


def _bind(request, challenge: Challenge, zelid: str) -> str:
    _check_bindable(challenge, zelid)
    with transaction.atomic():
        _claim(challenge)
        identity, created = WalletIdentity.objects.get_or_create(
            zelid_key=zelid_key(zelid),
            defaults={"user": request.user, "zelid": zelid, "kind": zelid_kind(zelid)},
        )
        WalletIdentity.objects.filter(pk=identity.pk).update(last_signed_at=timezone.now())
        membership = current_membership(request)
        audit.record(team=membership.team if membership else None, actor=request.user,
                     action="wallet.bind", target=identity, zelid=identity.zelid, new=created)
    if not created:
        return f"{identity.zelid} was already linked to your account; it is proven again."
    return f"{identity.zelid} is now linked to your account: you are its key holder."


def accept_callback(*, token: str, address: str, message: str, signature: str) -> str:
    """ZelCore posted a signature for a challenge: verify it and leave the rest to the browser's
    poll (signing in must happen in the browser's own session)."""
    challenge = Challenge.objects.filter(token=token).first()
    if challenge is None:
        raise SignRefused("No such message.", "unknown", 404)
    try:
        check(challenge, address=address, message=message, signature=signature)
        if challenge.purpose == Purpose.SIGN_IN:
            _account_for(address)
        else:
            _check_bindable(challenge, address)
    except SignRefused as refused:
        if refused.code != "used":
            Challenge.objects.filter(pk=challenge.pk, used_at__isnull=True, proven_zelid="").update(
                callback_error=refused.message[:300])
        raise
    if not Challenge.objects.filter(pk=challenge.pk, used_at__isnull=True, proven_zelid="").update(
            proven_zelid=address, callback_error=""):
        raise SignRefused("This message was already used: each message is accepted once.", "used", 409)
    return "Signature received. Return to the panel in your browser."


def poll(request, challenge: Challenge) -> dict:
    """What the waiting page should do now; completes a challenge ZelCore has signed."""
    if challenge.used_at:
        return {"status": "done", "message": "Already done."}
    if challenge.proven_zelid:
        try:
            return {"status": "done", "message": complete(request, challenge, challenge.proven_zelid)}
        except SignRefused as refused:
            return {"status": "error", "message": refused.message, "code": refused.code}
    if challenge.is_expired:
        return {"status": "expired", "message": "This message expired (messages live 15 minutes). "
                                                "Get a new message and sign again."}
    if challenge.callback_error:
        return {"status": "error", "message": challenge.callback_error}
    return {"status": "pending"}
