"""A hostile FluxOS node on loopback: real HTTP, answers that a test sets route by route.

The simulated fleet (tests/sim) behaves like FluxOS; this one does what an attacker's node may do:
FluxOS envelopes with absurd values (a height of 1e20, a non-numeric uptime), or an answer that
trickles in one byte at a time. Any path prefix is accepted, so it registers like a simulated node
(`http://127.0.0.1:<port>/<anything>`).
"""
from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler

from tests.loopback import LoopbackServer


class HostileNode:
    def __init__(self):
        self.answers: dict[str, object] = {}  # "/flux/info" -> the envelope's data
        self.trickle: dict[str, float] = {}   # "/flux/info" -> seconds between bytes
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                route = "/" + "/".join(self.path.split("?")[0].strip("/").split("/")[1:3])
                outer.requests.append(route)
                data = outer.answers.get(route)
                if data is None:
                    body = json.dumps({"status": "error", "data": {"code": 404, "message": "no route"}})
                else:
                    body = json.dumps({"status": "success", "data": data})
                raw = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                gap = outer.trickle.get(route)
                try:
                    if gap is None:
                        self.wfile.write(raw)
                        return
                    for byte in raw:  # one byte at a time, each well inside any read timeout
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(gap)
                except OSError:
                    pass  # the panel hung up, as it should

            def log_message(self, *args):
                pass

        self.loopback = LoopbackServer(Handler)
        self.url = f"{self.loopback.origin}/hostile"

    def close(self):
        self.loopback.close()
