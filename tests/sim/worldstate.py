"""A local double of the Flux world-state engine (shared/reference/worldstate-api.md, §15).

In tests::

    with WorldStateDouble(auth=True, admin_token="secret") as engine:
        client = WorldStateClient(engine.url, admin_token=engine.admin_token)

From a shell (prints the base URL once it listens)::

    uv run python -m tests.sim.worldstate --port 3000 --auth --admin-token secret

The server runs on its own event-loop thread; every in-process helper below hops onto that
thread, so tests never race the handlers.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aiohttp import web

from tests.sim import worldstate_rules as rules
from tests.sim.worldstate_engine import Engine, EntityRecord, Options
from tests.sim.worldstate_http import create_app

__all__ = ["WorldStateDouble", "Options", "loopback_client", "main"]

T = TypeVar("T")


def loopback_client(base_url: str, **kwargs: Any):
    """A WorldStateClient that may call the double on loopback (the client refuses private
    addresses by default, like the panel in production)."""
    from apps.worldstate.client import WorldStateClient

    kwargs.setdefault("allow_private", True)
    return WorldStateClient(base_url, **kwargs)


class WorldStateDouble:
    """The engine double on a background thread, listening on a free loopback port."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, **options: Any):
        self.host, self.port = host, port
        self._defaults = Options(**options)
        self.engine = Engine(dataclasses.replace(self._defaults))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/api/ws"

    @property
    def admin_token(self) -> str | None:
        return self.engine.options.admin_token

    def start(self) -> WorldStateDouble:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._listen())
            except BaseException as error:  # surfaced to the caller of start()
                failure.append(error)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="worldstate-double", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    async def _listen(self) -> None:
        self.engine.schedule = asyncio.get_running_loop().call_later
        self._runner, self.port = await start_server(self.engine, self.host, self.port)

    def stop(self) -> None:
        if self._loop is None or self._runner is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)
        self._loop = self._runner = None

    def __enter__(self) -> WorldStateDouble:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # ---- in-process helpers -----------------------------------------------------------------

    def call(self, function: Callable[[Engine], T]) -> T:
        """Run `function(engine)` on the server thread and return its result."""
        if self._loop is None:
            return function(self.engine)

        async def hop() -> T:
            return function(self.engine)

        return asyncio.run_coroutine_threadsafe(hop(), self._loop).result(10)

    def reset(self, **options: Any) -> None:
        """Forget all state and return to the constructor's options, plus any overrides."""
        def apply(engine: Engine) -> None:
            engine.options = dataclasses.replace(self._defaults, **options)
            engine.reset()
            if engine.hub is not None:  # the connection faults end with the test too
                engine.hub.refuse, engine.hub.stalled_until = False, 0.0
        self.call(apply)

    def configure(self, **options: Any) -> None:
        """Change switches (auth, retry_after, apply_delay, fail_publish…) keeping state."""
        def apply(engine: Engine) -> None:
            engine.options = dataclasses.replace(engine.options, **options)
        self.call(apply)

    def set_config(self, **fields: Any) -> dict:
        """Change the runtime config directly, as PUT /api/admin/config would."""
        return self.call(lambda engine: (engine.config.update(fields), dict(engine.config))[1])

    def register_namespace(self, name: str) -> tuple[str, str]:
        """Register without HTTP (no admin token needed); returns (namespaceId, token)."""
        def apply(engine: Engine) -> tuple[str, str]:
            namespace = engine.register_namespace(name)
            return namespace.namespace_id, namespace.token
        return self.call(apply)

    def seed(self, entities: Mapping[str, Mapping[str, Any]]) -> None:
        """Load entities straight into the map (no events, no history): for benches."""
        def apply(engine: Engine) -> None:
            now = rules.now_ns()
            for entity_id, properties in entities.items():
                engine.entities[entity_id] = EntityRecord(entity_id, dict(properties), now)
        self.call(apply)

    def ws_subscriptions(self) -> list[set[str]]:
        """The subscription set of each open WebSocket, to wait until a subscribe has landed."""
        return self.call(lambda engine: [set(connection.subscriptions)
                                         for connection in engine.hub.connections])

    def entity_count(self) -> int:
        return self.call(lambda engine: len(engine.entities))

    # ---- live-connection faults (tests/sim/worldstate_ws.py) -----------------------------------

    def drop_connections(self, mode: str = "close") -> int:
        """Close, abort, or send garbage/a huge frame on every open WebSocket; returns how many."""
        return self.call(lambda engine: engine.hub.drop(mode))

    def stall(self, seconds: float) -> None:
        """Send nothing on any WebSocket (no updates, no metrics) for `seconds`."""
        self.call(lambda engine: engine.hub.stall(seconds))

    def refuse_websockets(self, refuse: bool = True) -> None:
        def apply(engine: Engine) -> None:
            engine.hub.refuse = refuse
        self.call(apply)

    def ws_accepted(self) -> int:
        """WebSocket connections accepted so far (a reconnect adds one)."""
        return self.call(lambda engine: engine.hub.accepted)

    def requests_seen(self) -> int:
        """REST requests the double has answered so far (the WebSocket not counted)."""
        return self.call(lambda engine: engine.requests_seen)


async def start_server(engine: Engine, host: str, port: int) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(create_app(engine), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = site._server.sockets[0].getsockname()[1]  # the real port when asked for 0
    return runner, bound_port


async def _serve_forever(host: str, port: int, options: Options) -> None:
    engine = Engine(options, asyncio.get_running_loop().call_later)
    runner, bound_port = await start_server(engine, host, port)
    print(f"http://{host}:{bound_port}", flush=True)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local double of the Flux world-state engine.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000, help="0 picks a free port")
    parser.add_argument("--auth", action="store_true", help="FLUX_AUTH_ENABLED=true")
    parser.add_argument("--admin-token", default=None, help="FLUX_ADMIN_TOKEN")
    parser.add_argument("--credentials", action="store_true",
                        help="act as if FLUX_ENCRYPTION_KEY were set (connector tokens)")
    parser.add_argument("--retry-after", type=int, default=60)
    parser.add_argument("--apply-delay", type=float, default=0.0,
                        help="seconds before accepted events reach the entity map")
    parser.add_argument("--metrics-interval", type=float, default=2.0)
    args = parser.parse_args(argv)
    options = Options(auth=args.auth, admin_token=args.admin_token,
                      credentials=args.credentials, retry_after=args.retry_after,
                      apply_delay=args.apply_delay, metrics_interval=args.metrics_interval)
    asyncio.run(_serve_forever(args.host, args.port, options))
    return 0


if __name__ == "__main__":
    sys.exit(main())
