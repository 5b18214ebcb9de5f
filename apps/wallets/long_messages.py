"""Messages too long for a ZelCore link, served by the panel itself for ZelCore to fetch.

FluxOS's UIs keep a `zel:` URI at or under 1800 characters (reference wallets.md §1.4); a longer
message goes into the link as `message=FLUX_URL=<url>`, and ZelCore fetches the text at <url>,
signs it and posts the full text to the callback. FluxOS stores the text at storage.runonflux.io;
no outside storage is reachable from here, so the panel serves it itself:

- at an unguessable URL: the request's token plus an HMAC of (token, the message's preparation
  time) under the panel's secret key, so a new message (a new preparation) gets a new URL;
- only while the request is pending and its message may still be signed (then 404);
- read-only (GET/HEAD), public (the wallet's device has no panel session), plain text, the exact
  UTF-8 bytes of the message, never cached.

The wallet's device must reach the panel, as it must for the callback.
"""
from __future__ import annotations

from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.views.decorators.http import require_safe

from apps.wallets import signing
from apps.wallets.models import SigningRequest

SALT = "apps.wallets.long_messages"


def digest(signing_request: SigningRequest) -> str:
    stamp = signing_request.message_at.isoformat() if signing_request.message_at else ""
    return salted_hmac(SALT, f"{signing_request.token}:{stamp}").hexdigest()


def message_path(signing_request: SigningRequest) -> str:
    return reverse("wallets:request_message", args=[signing_request.token, digest(signing_request)])


def message_url(request, signing_request: SigningRequest) -> str:
    return request.build_absolute_uri(message_path(signing_request))


def servable(signing_request: SigningRequest | None, key: str, now=None) -> bool:
    now = now or timezone.now()
    return (signing_request is not None and bool(signing_request.message)
            and signing_request.status == SigningRequest.Status.PENDING
            and signing_request.expires_at > now and signing.message_expires_at(signing_request) > now
            and constant_time_compare(key, digest(signing_request)))


@require_safe
def serve_message(request, token, key):
    signing_request = SigningRequest.objects.filter(token=token).first()
    if not servable(signing_request, key):
        raise Http404("No such message.")
    response = HttpResponse(signing_request.message.encode("utf-8"),
                            content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response
