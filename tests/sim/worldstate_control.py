"""The double's own control routes, for a double running in another process (the bench, the demo):
they are not part of the engine's API (shared/reference/worldstate-api.md has no `/_double`), so
the panel never calls them, and they are not counted.

- `GET /_double/stats`: `{"requests": <REST requests to /api/... so far>, "ws_accepted": <n>,
  "ws_open": <n>}` — the bench counts what the panel costs the engine;
- `POST /_double/ws/drop?mode=close|abort|garbage|huge`: Hub.drop on every open WebSocket;
- `POST /_double/ws/stall?seconds=<s>`: Hub.stall;
- `POST /_double/ws/refuse?on=1|0`: answer new WebSockets 503.
"""
from __future__ import annotations

from aiohttp import web

from tests.sim.worldstate_web import engine_of, json_body


@web.middleware
async def count_requests(request: web.Request, handler):
    if request.path.startswith("/api/") and request.path != "/api/ws":
        engine_of(request).requests_seen += 1
    return await handler(request)


async def stats(request: web.Request) -> web.Response:
    engine = engine_of(request)
    return json_body({"requests": engine.requests_seen, "ws_accepted": engine.hub.accepted,
                      "ws_open": len(engine.hub.connections)})


async def drop(request: web.Request) -> web.Response:
    count = engine_of(request).hub.drop(request.query.get("mode", "close"))
    return json_body({"dropped": count})


async def stall(request: web.Request) -> web.Response:
    engine_of(request).hub.stall(float(request.query.get("seconds", "5")))
    return json_body({"ok": True})


async def refuse(request: web.Request) -> web.Response:
    engine_of(request).hub.refuse = request.query.get("on", "1") == "1"
    return json_body({"ok": True})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/_double/stats", stats, allow_head=False)
    app.router.add_post("/_double/ws/drop", drop)
    app.router.add_post("/_double/ws/stall", stall)
    app.router.add_post("/_double/ws/refuse", refuse)
