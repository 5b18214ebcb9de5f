"""The live stream page of one engine: updates as the panel's subscription receives them.

One URL: htmx polls it with the fingerprint it shows (the copy's version, the time of the last
metrics, whether it is live):
304 until something new arrives; then the stream part is rendered again. `prefix` filters by
entity id; `paused` renders the stream without its poller (a link, so it works without JS).
The page reads only the panel's database, never the engine.
"""
from __future__ import annotations

from django.shortcuts import render
from django.utils.http import urlencode

from apps.accounts.access import team_view
from apps.accounts.models import Role
from apps.worldstate import live_read, live_redis
from apps.worldstate.views import engine_of_team
from fluxpanel.htmx import unchanged

PREFIX_MAX = 300


def _lines(engine, prefix: str, live: live_read.LiveStatus):
    """From the Redis mirror when it is configured and current (no prefix: it holds only the
    newest lines of all entities), else from the database."""
    mirrored = None if prefix else live_redis.recent(engine.pk, live.version)
    return mirrored if mirrored is not None else live_read.recent(engine, prefix)


@team_view()
def live_stream(request, pk):
    engine = engine_of_team(request, pk)
    prefix = request.GET.get("prefix", "")[:PREFIX_MAX]
    if any(ch < " " for ch in prefix):  # no entity id holds control characters (nor can PostgreSQL)
        prefix = ""
    paused = request.GET.get("paused") == "1"
    live = live_read.status(engine)
    # The engine's metrics come every 2 s even when nothing else does: they are part of what
    # the page shows, so a new reading is a change too.
    metrics_at = live.live.metrics_at if live.live else None
    fingerprint = f"{int(live.on)}.{live.version}.{int(metrics_at.timestamp()) if metrics_at else 0}"
    if request.htmx and request.GET.get("fp") == fingerprint:
        return unchanged()
    base = {"prefix": prefix} if prefix else {}
    context = {
        "engine": engine, "tab": "live", "live": live, "prefix": prefix, "paused": paused,
        "lines": _lines(engine, prefix, live),
        "metrics": live.live.metrics if live.live else {},
        "metrics_at": metrics_at,
        "poll_query": urlencode({**base, "fp": fingerprint}),
        "pause_query": urlencode({**base, "paused": "1"}),
        "resume_query": urlencode(base),
        "is_manager": request.membership.can(Role.MANAGER),
        "is_operator": request.membership.can(Role.OPERATOR),
    }
    if request.htmx:
        return render(request, "worldstate/_live_stream.html", context)
    return render(request, "worldstate/live.html", context)
