"""The one check of a `next` URL that a form or link asks to go back to (no open redirects)."""
from __future__ import annotations

from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_url(request, candidate, fallback="home") -> str:
    """`candidate` if it stays on this panel (same host, http(s), https when the request is), else
    `fallback` (a URL name or a path). Empty, absolute-to-elsewhere, `//host`, `\\\\host` and
    `javascript:` all fall back, and so does anything that is not a path (`²` would otherwise be
    taken by redirect() for a view name)."""
    if isinstance(candidate, str) and candidate.startswith("/") and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(fallback)
