"""A faithful simulated Flux fleet: many FluxOS nodes served by one process on loopback.

Command line (own process, own core; prints one base URL per line once it is serving):

    python -m tests.sim.fluxnode --nodes 1000 --port 18000 [--seed 1] [--latency-ms 0]

In-process, for tests (server on a free port in a background thread):

    with SimFleet(nodes=20, seed=7) as fleet:
        client = NodeClient(fleet.urls[3])
        fleet.inject(3, "down")          # or hang, slow (latency_ms), http500, malformed,
        fleet.clear(3)                   #    huge (mb, declared, gzip), drip (interval_ms,
                                         #    phase), garbage (value), dos, unconfirmed, behind

Apps: `SimFleet(nodes=1000, apps=1000, instances=3, vary_expiry=True)` fixes the catalogue;
`fleet.stop_instance(name, i)` / `start_instance(name, i)` stop and start an app's containers on a
node (also `POST /_sim/apps/<name>/instances/<i> {"state": "stopped"|"running"}`); every node is
also served at `/loc/<ip[:port]>/…` (`fleet.loc_url(i)`, `fleet.location_base` for
FLUXPANEL_DEV_LOCATION_URL).

Faults can also be injected over HTTP: `POST /_sim/nodes/<i>/fault {"kind": "hang"}`,
`DELETE /_sim/nodes/<i>/fault`; `POST /_sim/chain/advance {"blocks": n}`; `GET /_sim/stats`
(requests served and the simulator's own CPU time, to show it is not the bottleneck).
Transfer faults on file downloads and uploads: `fleet.inject(i, "cut", after_bytes=n)` (the
connection dropped after n bytes) and `fleet.inject(i, "stall", after_bytes=n)` (a download goes
silent after n bytes), cleared by `fleet.clear(i)` like the others.

Big backup archives: `fleet.set_volume_archive(i, app, component, "/abs/file.tar.gz")` (or
`POST /_sim/nodes/<i>/volume-archive {"app": …, "component": …, "path": "/abs/file.tar.gz"}`,
answering `{"mount": …}`) makes that file the component's appdata; its next backup task leaves it,
unread and uncopied, as `backup/local/backup_<component lowercase>.tar.gz`, downloaded streamed.

Replies follow FluxOS's compression() (gzip for streams and answers of 1 kB or more, see
fluxnode_http). Node data is deterministic from the seed (see fluxnode_world); owners come from tests.sim.keys so
tests can sign as any node's admin or any app's owner.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import threading

from tests.sim import fluxnode_faults as faults
from tests.sim import fluxnode_files as files
from tests.sim.fluxnode_node import SimNode
from tests.sim.fluxnode_server import Fleet, node_summary, start_server

__all__ = ["Fleet", "SimFleet", "SimNode", "main"]


class SimFleet:
    """The simulator on a background thread, with helpers to look at and disturb nodes."""

    def __init__(self, nodes: int = 10, seed: int = 1, latency_ms: float = 0, *,
                 host: str = "127.0.0.1", port: int = 0, tls: bool = False, **fleet_options):
        self.host, self._port, self.tls = host, port, tls
        self._options = dict(nodes=nodes, seed=seed, latency_ms=latency_ms, **fleet_options)
        self.fleet: Fleet | None = None
        self.port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SimFleet:
        self._thread = threading.Thread(target=self._run, name="fluxnode-sim", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise RuntimeError("simulator failed to start") from self._error
        return self

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # surfaced to start()
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self.fleet = Fleet(**self._options)
        self._stop = asyncio.Event()
        context = None
        if self.tls:
            from tests.sim.fluxnode_tls import self_signed_context

            context = self_signed_context()
        runner, self.port = await start_server(self.fleet, self.host, self._port, context)
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            for node in list(self.fleet._nodes.values()):
                node.release.set()
            await runner.cleanup()
            await _cancel_leftovers()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> SimFleet:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # ------------------------------------------------------------------ access

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def url(self, index: int) -> str:
        return f"{self.base}/n/{index}"

    @property
    def urls(self) -> list[str]:
        return [self.url(i) for i in range(self.fleet.count)]

    def call(self, fn, *args, **kwargs):
        """Run fn on the simulator's loop (state is owned by that thread) and return its result."""
        async def run():
            return fn(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def node(self, index: int) -> SimNode:
        """The live node object; read it freely, change it through call()/inject()."""
        return self.call(self.fleet.node, index)

    def summary(self, index: int) -> dict:
        return self.call(lambda: node_summary(self.fleet.node(index)))

    def inject(self, index: int, kind: str, **params) -> None:
        """A fault on node `index`; `cut`/`stall` (after_bytes) act on file transfers only."""
        if kind in faults.TRANSFER_FAULTS:
            self.call(lambda: faults.set_transfer_fault(self.fleet.node(index), kind, **params))
            return
        self.call(lambda: self.fleet.node(index).set_fault(kind, **params))

    def set_volume_archive(self, index: int, app: str, component: str, archive_path: str) -> str:
        """Make the component's appdata on node `index` be the tar.gz at `archive_path` (kept on
        disk, never copied): its next backup task leaves exactly that file as
        backup/local/backup_<component lowercase>.tar.gz. Returns the component's mount."""
        return self.call(lambda: files.set_volume_archive(self.fleet.node(index), app, component,
                                                          archive_path))

    def clear(self, index: int) -> None:
        self.call(lambda: self.fleet.node(index).clear_faults())

    def advance_blocks(self, blocks: int) -> int:
        def advance():
            self.fleet.chain.advance(blocks)
            for node in self.fleet._nodes.values():
                node.cache.clear()
            return self.fleet.chain.height()

        return self.call(advance)

    def stats(self) -> dict:
        return self.call(self.fleet.stats)

    def stop_instance(self, name: str, index: int) -> dict:
        """Stop app `name`'s containers on node `index` (gone from its listrunningapps)."""
        return self.call(self.fleet.set_instance_state, name, index, "stopped")

    def start_instance(self, name: str, index: int) -> dict:
        """Start them again (listed again)."""
        return self.call(self.fleet.set_instance_state, name, index, "running")

    def loc_url(self, index: int) -> str:
        """The node's `/loc/<ip[:port]>` base URL (the panel's location routing)."""
        return f"{self.base}/loc/{self.fleet.identity(index).location}"

    @property
    def location_base(self) -> str:
        """Template for FLUXPANEL_DEV_LOCATION_URL."""
        return f"{self.base}/loc/{{location}}"

    def app_names(self) -> list[str]:
        return sorted(self.fleet.catalogue)

    def app(self, name: str):
        return self.fleet.find_app(name)


# ---------------------------------------------------------------------- command line


async def _serve_forever(args) -> None:
    fleet = Fleet(args.nodes, seed=args.seed, latency_ms=args.latency_ms,
                  stream_delay_ms=args.stream_delay_ms, logpoll_ms=args.logpoll_ms,
                  apps=args.apps, instances=args.instances, vary_expiry=args.vary_expiry)
    runner, port = await start_server(fleet, args.host, args.port)
    out = sys.stdout
    for index in range(fleet.count):
        out.write(f"http://{args.host}:{port}/n/{index}\n")
    out.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    await _cancel_leftovers()


async def _cancel_leftovers() -> None:
    """Requests left hanging on purpose (hang fault, the application/json trap) end here."""
    leftovers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in leftovers:
        task.cancel()
    await asyncio.gather(*leftovers, return_exceptions=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Serve a simulated Flux fleet on loopback.")
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--stream-delay-ms", type=float, default=20.0)
    parser.add_argument("--logpoll-ms", type=float, default=150.0)
    parser.add_argument("--apps", type=int, default=None, help="exact number of catalogue apps")
    parser.add_argument("--instances", type=int, default=None, help="instances of every app")
    parser.add_argument("--vary-expiry", action="store_true",
                        help="varied expire/height (some apps expiring within a week, one expired)")
    args = parser.parse_args(argv)
    asyncio.run(_serve_forever(args))


if __name__ == "__main__":
    main()
