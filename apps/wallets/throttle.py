"""How many wallet messages one client may ask for: a fixed window per client, in Django's cache.

Asking for a sign-in message is anonymous and writes a row, so it is bounded twice: per client
(`WALLET_CHALLENGES_PER_CLIENT` per `WALLET_CHALLENGE_WINDOW_SECONDS`; the address for anonymous
visitors, with IPv6 counted per /64 since one host holds a whole /64, the account otherwise), and
in all (`WALLET_CHALLENGES_LIVE_MAX` unexpired challenges). With a per-process cache (locmem, the
default) the per-client limit holds per web process, which still bounds the rows.

The client address is the one password sign-in throttling counts by
(`apps.accounts.signin.client_address`: the peer, or behind `FLUXPANEL_TRUSTED_PROXY_COUNT`
proxies the trusted entry of X-Forwarded-For).
"""
from __future__ import annotations

import ipaddress
import time

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from apps.accounts.signin import client_address
from apps.wallets.models import Challenge


def client_key(request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    try:
        ip = ipaddress.ip_address(client_address(request))
    except ValueError:
        return "addr:unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return f"addr:{ip.ipv4_mapped}"
        return "addr:" + str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return f"addr:{ip}"


def challenge_refusal(request) -> tuple[str, int] | None:
    """None when this client may have one more challenge (and counts it), else (message, seconds
    to wait before asking again)."""
    limit = settings.WALLET_CHALLENGES_PER_CLIENT
    window = settings.WALLET_CHALLENGE_WINDOW_SECONDS
    now = time.time()
    slot = int(now // window)
    key = f"wallets:challenges:{client_key(request)}:{slot}"
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 5)
        count = 1
    wait = int((slot + 1) * window - now) + 1
    if count > limit:
        return (f"Too many wallet messages asked for from your address ({limit} in "
                f"{window // 60} minutes). Sign the message you already have, or wait "
                f"{max(1, wait // 60)} minute(s) and try again.", wait)
    live = Challenge.objects.filter(expires_at__gt=timezone.now(), used_at__isnull=True).count()
    if live >= settings.WALLET_CHALLENGES_LIVE_MAX:
        return ("The panel is handing out too many wallet messages right now. Try again in a "
                "minute.", 60)
    return None
