"""A local double of the Flux stats API (RunOnFlux/fluxstats, stats.runonflux.io): `/fluxinfo`
with its `projection` (comma-separated field paths, a path parameter or `?projection=`), answered
from a generated network in fluxstats' envelope, with MongoDB's projection rules (dotted paths
give nested objects, absent fields are left out, no projection gives every field).

In tests::

    with StatsDouble(nodes=200) as stats:
        settings.FLUX_STATS_API_URL = stats.url
        stats.fault = "garbage"   # or "huge", "slow", "http500", None
        stats.requests            # how many /fluxinfo requests it answered

From a shell (prints the base URL once it listens)::

    uv run python -m tests.sim.fluxstats --port 18400
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

TIERS = (("CUMULUS", 0.55, 240), ("NIMBUS", 0.3, 600), ("STRATUS", 0.15, 1500))
VERSIONS = (("8.17.0", 0.7), ("8.16.1", 0.2), ("8.15.0", 0.1))  # as the simulated fleet (fluxnode_world)
FAULTS = ("garbage", "huge", "slow", "http500")


def make_network(count: int, seed: int = 7, extra: list[dict] | None = None) -> list[dict]:
    """`count` node records shaped like fluxstats' (the fields the panel may ask for)."""
    rng = random.Random(seed)
    nodes = []
    for index in range(count):
        tier, _, eps = rng.choices(TIERS, weights=[t[1] for t in TIERS])[0]
        version = rng.choices(VERSIONS, weights=[v[1] for v in VERSIONS])[0][0]
        flux = {"version": version, "ip": f"198.51.{index // 250}.{index % 250 + 1}", "zelid": "1abc"}
        if rng.random() < 0.25:
            flux["arcaneVersion"] = "1.4.2"
        nodes.append({"ip": flux["ip"], "tier": tier, "flux": flux,
                      "benchmark": {"bench": {"eps": round(eps * rng.uniform(0.8, 1.4), 2), "cores": 8}},
                      "daemon": {"info": {"blocks": 1_900_000}}, "lastPaidHeight": 1_899_000})
    return nodes + list(extra or [])


def project(record: dict, fields: list[str]) -> dict:
    """MongoDB's inclusion projection of one record."""
    out: dict = {}
    for path in fields:
        keys = [key for key in path.split(".") if key]
        value, found = record, True
        for key in keys:
            if isinstance(value, dict) and key in value:
                value = value[key]
            else:
                found = False
                break
        if not found or not keys:
            continue
        target = out
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        target[keys[-1]] = value
    return out


class StatsDouble:
    """The stats double on a background thread, on a free loopback port."""

    def __init__(self, *, nodes: int = 300, seed: int = 7, host: str = "127.0.0.1", port: int = 0):
        self.network = make_network(nodes, seed)
        self.fault: str | None = None
        self.requests = 0
        self.projections: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self, nodes: int = 300, seed: int = 7, extra: list[dict] | None = None) -> None:
        self.network, self.fault, self.requests, self.projections = make_network(nodes, seed, extra), None, 0, []

    def __enter__(self) -> StatsDouble:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, path: str, query: str) -> tuple[int, bytes]:
        parts = [unquote(p) for p in path.split("/") if p]
        if not parts or parts[0] != "fluxinfo" or len(parts) > 2:
            return 404, b"Cannot GET " + path.encode()
        with self._lock:
            self.requests += 1
        projection = parts[1] if len(parts) == 2 else (parse_qs(query).get("projection") or [""])[0]
        self.projections.append(projection)
        fields = [field for field in projection.split(",") if field and field != "_id"]
        data = [project(node, fields) if fields else node for node in self.network]
        return 200, json.dumps({"status": "success", "data": data}).encode()

    def _handler(self):
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                fault = double.fault
                if fault == "http500":
                    with double._lock:
                        double.requests += 1
                    return self._send(500, b"<html>Internal Server Error</html>", "text/html")
                status, body = double.answer(parts.path, parts.query)
                if status == 200 and fault == "garbage":
                    body = json.dumps({"status": "success", "data": [
                        {"tier": "MEGA", "flux": {"version": "x" * 40},
                         "benchmark": {"bench": {"eps": -1e300}}}] * 50}).encode()
                if status == 200 and fault == "huge":
                    return self._huge()
                if status == 200 and fault == "slow":
                    return self._slow(body)
                self._send(status, body)

            def _send(self, status: int, body: bytes, kind: str = "application/json; charset=utf-8"):
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _huge(self):
                """A 64 MiB list of nodes, sent until the client hangs up."""
                chunk = b'{"tier":"CUMULUS","flux":{"version":"6.4.0"}},' * 2000
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(64 * 1024 * 1024))
                self.end_headers()
                try:
                    self.wfile.write(b'{"status":"success","data":[')
                    for _ in range((64 * 1024 * 1024) // len(chunk)):
                        self.wfile.write(chunk)
                except OSError:
                    pass

            def _slow(self, body: bytes):
                """The real answer, one byte every 0.5 s."""
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    for index in range(len(body)):
                        self.wfile.write(body[index:index + 1])
                        self.wfile.flush()
                        time.sleep(0.5)
                except OSError:
                    pass

        return Handler


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="A Flux stats API double on loopback.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with StatsDouble(nodes=args.nodes, seed=args.seed, port=args.port) as double:
        print(double.url, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
