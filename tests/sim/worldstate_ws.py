"""`GET /api/ws` of the world-state double (§5).

No auth and no greeting; an empty subscription set (or `*`) means everything; deletions and
metrics go to every connection. Each connection has a bounded queue: like the engine's broadcast
channels, a slow reader silently loses messages instead of stalling the writers.
"""
from __future__ import annotations

import asyncio
import contextlib
import json

from aiohttp import WSMsgType, web

from tests.sim.worldstate_engine import Engine

QUEUE_CAPACITY = 1000


class Connection:
    def __init__(self, socket: web.WebSocketResponse):
        self.socket = socket
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

    async def _metrics_loop(self) -> None:
        # Short ticks, so a changed metrics_interval takes effect without waiting a long sleep.
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(0.05)
            if loop.time() - last < self.engine.options.metrics_interval:
                continue
            last = loop.time()
            if self.connections:
                snapshot = self.engine.metrics.snapshot(len(self.engine.entities))
                text = json.dumps(snapshot, separators=(",", ":"))
                for connection in self.connections:
                    connection.offer(text)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)  # answers client pings with pongs
        await socket.prepare(request)
        connection = Connection(socket)
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

    @staticmethod
    async def _write(connection: Connection) -> None:
        while True:
            text = await connection.queue.get()
            await connection.socket.send_str(text)
