"""Password sign-in throttling (django-axes): the client address it counts failures by.

Settings (fluxpanel/settings.py, AXES_*) lock an account, and separately a client address, after
`FLUXPANEL_SIGNIN_FAILURE_LIMIT` failures within the cool-off window; the lockout answer is the
page `accounts/locked_out.html` with HTTP 429.
"""
from __future__ import annotations

import ipaddress

from django.conf import settings

# The backend that checks passwords (after axes' backend); `login()` of an account we just created
# or verified otherwise names it explicitly, since there are two backends.
PASSWORD_BACKEND = "django.contrib.auth.backends.ModelBackend"


def client_address(request) -> str:
    """The address a sign-in comes from, for the per-address count.

    Without a proxy it is the socket's peer. Behind `FLUXPANEL_TRUSTED_PROXY_COUNT` proxies it is
    the entry that many places from the right of X-Forwarded-For: the left part is written by the
    client and cannot be trusted, so a forged header cannot give an attacker fresh addresses.
    """
    peer = request.META.get("REMOTE_ADDR", "") or ""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return peer
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < hops:
        return peer
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer


def lockout_response(request, original_response=None, credentials=None):
    """The answer to a locked-out sign-in: a page that says why and for how long (HTTP 429)."""
    from django.shortcuts import render

    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return render(request, "accounts/locked_out.html",
                  {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}, status=429)
