"""Build the signing component's item for a challenge or a signing request."""
from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse

from apps.wallets import long_messages, signing
from apps.wallets.handoff import SignItem, qr_svg, zelcore_uri
from apps.wallets.kinds import get_kind
from apps.wallets.models import Challenge, SigningRequest

CHALLENGE_TEXT = {
    Challenge.Purpose.SIGN_IN: (
        "Sign in with a wallet",
        "Proves that you hold a ZelID linked to your account. Nothing is paid and no node is "
        "touched.",
    ),
    Challenge.Purpose.BIND: (
        "Link a ZelID to your account",
        "Proves that you hold this ZelID: you become its key holder, and can sign in with it and "
        "sign node logins for your teams.",
    ),
}


QR_CACHE_SECONDS = 900


def _icon_url(request) -> str:
    return request.build_absolute_uri(reverse("wallets:icon"))


def _challenge_callback(request, challenge: Challenge) -> str:
    return request.build_absolute_uri(reverse("wallets:challenge_callback", args=[challenge.token]))


def _request_callback(request, signing_request: SigningRequest) -> str:
    return request.build_absolute_uri(reverse("wallets:request_callback",
                                              args=[signing_request.token]))


def challenge_item(request, challenge: Challenge) -> SignItem:
    title, why = CHALLENGE_TEXT[challenge.purpose]
    return SignItem(
        title=title, why=why, message=challenge.message,
        submit_url=reverse("wallets:challenge_submit", args=[challenge.token]),
        poll_url=reverse("wallets:challenge_poll", args=[challenge.token]),
        callback_url=_challenge_callback(request, challenge), icon_url=_icon_url(request),
        expires_at=challenge.expires_at,
        qr_url=reverse("wallets:challenge_qr", args=[challenge.token]),
    )


def challenge_zel_uri(request, challenge: Challenge) -> str | None:
    return zelcore_uri(challenge.message, callback_url=_challenge_callback(request, challenge),
                       icon_url=_icon_url(request))


def request_zel_uri(request, signing_request: SigningRequest) -> str | None:
    if not signing_request.message:
        return None
    return zelcore_uri(signing_request.message, icon_url=_icon_url(request),
                       callback_url=_request_callback(request, signing_request),
                       message_url=long_messages.message_url(request, signing_request))


def cached_qr_svg(uri: str) -> str:
    """The QR code of `uri`, drawn once per link (a page may ask again on every reload)."""
    key = "wallets:qr:" + hashlib.sha256(uri.encode()).hexdigest()
    svg = cache.get(key)
    if svg is None:
        svg = qr_svg(uri)
        cache.set(key, svg, QR_CACHE_SECONDS)
    return svg


def request_item(request, signing_request: SigningRequest, *, batch: str = "") -> SignItem:
    kind = get_kind(signing_request.kind)
    title = kind.label + (f": {signing_request.node.name}" if signing_request.node else "")
    index, total = _progress(request, signing_request, batch)
    return SignItem(
        title=title, why=signing_request.purpose, message=signing_request.message,
        submit_url=reverse("wallets:request_sign", args=[signing_request.pk]),
        poll_url=reverse("wallets:request_poll", args=[signing_request.pk]),
        callback_url=_request_callback(request, signing_request), icon_url=_icon_url(request),
        expires_at=signing.message_expires_at(signing_request),
        expected_zelid=signing_request.zelid, index=index, total=total, in_batch=bool(batch),
        decline_url=reverse("wallets:request_decline", args=[signing_request.pk]),
        node_name=signing_request.node.name if signing_request.node else "",
        qr_url=reverse("wallets:request_qr", args=[signing_request.pk]),
        message_url=long_messages.message_url(request, signing_request),
    )


def _progress(request, signing_request, batch):
    """(this one's number, how many) among the batch's requests this key holder can sign, else
    among everything waiting for them."""
    keys = signing.identity_keys(request.user)
    if batch:
        mine = SigningRequest.objects.filter(team=request.team, batch=batch, zelid_key__in=keys)
        done = mine.exclude(status__in=SigningRequest.OPEN).count()
        return done + 1, mine.count()
    return 1, signing.signable(request.membership).count()


def render_item(request, item: SignItem) -> str:
    return render_to_string("wallets/_sign_item.html", {"item": item}, request=request)


def render_done(request, context: dict) -> str:
    return render_to_string("wallets/_sign_done.html", context, request=request)
