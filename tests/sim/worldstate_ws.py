"""`GET /api/ws` of the world-state double (§5).

No auth and no greeting; an empty subscription set (or `*`) means everything; deletions and
metrics go to every connection. Each connection has a bounded queue: like the engine's broadcast
channels, a slow reader silently loses messages instead of stalling the writers.

Faults a test (or the bench) switches on, so that reconnecting and resyncing are tested:
`Hub.drop(mode)` acts on the open connections — `close` (a close frame 1001 "going away", what
an engine restarting sends), `abort` (the TCP connection cut, no close frame), `garbage` (text
frames that are not JSON), `huge` (one text frame of `size` bytes) — and `Hub.stall(seconds)`
sends nothing at all for a while (no updates, no metrics), as a hung engine would. While
`refuse` is set, a new WebSocket is answered 503 before the upgrade.
"""
from __future__ import annotations

import asyncio
import contextlib
import json

from aiohttp import WSMsgType, web

from tests.sim.worldstate_engine import Engine

QUEUE_CAPACITY = 1000


class Connection:
    def __init__(self, socket: web.WebSocketResponse, request: web.Request):
        self.socket = socket
        self.request = request
        self.subscriptions: set[str] = set()
        self.queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_CAPACITY)
        self.dropped = 0

    def wants(self, entity_id: str) -> bool:
        return (not self.subscriptions or "*" in self.subscriptions
                or entity_id in self.subscriptions)

    def offer(self, text: str) -> None:
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.dropped += 1  # the engine logs "lagged" and keeps the connection

    def handle_client_text(self, text: str) -> None:
        """subscribe/unsubscribe with `entity_id`; anything else is ignored without a reply."""
        try:
            message = json.loads(text)
        except ValueError:
            return
        if not isinstance(message, dict) or not isinstance(message.get("entity_id"), str):
            return
        if message.get("type") == "subscribe":
            self.subscriptions.add(message["entity_id"])
        elif message.get("type") == "unsubscribe":
            self.subscriptions.discard(message["entity_id"])


class Hub:
    """Fans engine changes and periodic metrics out to the open connections."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.connections: set[Connection] = set()
        self._metrics_task: asyncio.Task | None = None
        self.refuse = False
        self.stalled_until = 0.0
        self.accepted = 0  # WebSocket connections accepted since the start
        engine.listeners.append(self.on_change)
        engine.hub = self

    def on_change(self, entity_id: str, message: dict) -> None:
        if not self.connections:
            return
        text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        everyone = message["type"] != "state_update"
        for connection in self.connections:
            if everyone or connection.wants(entity_id):
                connection.offer(text)

    async def start(self, _app: web.Application) -> None:
        self._metrics_task = asyncio.create_task(self._metrics_loop())

    async def stop(self, _app: web.Application) -> None:
        if self._metrics_task:
            self._metrics_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._metrics_task
        for connection in list(self.connections):
            await connection.socket.close()

    # ---- faults -----------------------------------------------------------------------------

    def drop(self, mode: str = "close", *, size: int = 4 * 1024 * 1024) -> int:
        """Act on every open connection (see the module docstring); returns how many."""
        connections = list(self.connections)
        for connection in connections:
            if mode == "close":
                asyncio.ensure_future(connection.socket.close(code=1001, message=b"going away"))
            elif mode == "abort":
                transport = connection.request.transport
                if transport is not None:
                    transport.abort()
            elif mode == "garbage":
                for text in ("not json {", "\u0000\u0001", "[1,2,3]", '"a string"'):
                    connection.offer(text)
            elif mode == "huge":
                asyncio.ensure_future(connection.socket.send_str("x" * size))
            else:
                raise ValueError(f"unknown drop mode {mode!r}")
        return len(connections)

    def stall(self, seconds: float) -> None:
        self.stalled_until = asyncio.get_running_loop().time() + seconds

    def stalled(self) -> bool:
        return asyncio.get_running_loop().time() < self.stalled_until

    async def _metrics_loop(self) -> None:
        # Short ticks, so a changed metrics_interval takes effect without waiting a long sleep.
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(0.05)
            if loop.time() - last < self.engine.options.metrics_interval:
                continue
            last = loop.time()
            if self.connections and not self.stalled():
                snapshot = self.engine.metrics.snapshot(len(self.engine.entities))
                text = json.dumps(snapshot, separators=(",", ":"))
                for connection in self.connections:
                    connection.offer(text)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.refuse:
            return web.Response(status=503, text="unavailable")
        socket = web.WebSocketResponse(autoping=True)  # answers client pings with pongs
        await socket.prepare(request)
        self.accepted += 1
        connection = Connection(socket, request)
        self.connections.add(connection)
        self.engine.metrics.connections += 1
        writer = asyncio.create_task(self._write(connection))
        try:
            async for frame in socket:
                if frame.type == WSMsgType.TEXT:
                    connection.handle_client_text(frame.data)
                elif frame.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
        finally:
            self.connections.discard(connection)
            self.engine.metrics.connections -= 1
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await writer
        return socket

    async def _write(self, connection: Connection) -> None:
        while True:
            text = await connection.queue.get()
            while self.stalled():
                await asyncio.sleep(0.05)
            await connection.socket.send_str(text)
