"""A webhook receiver on loopback (real HTTP) that records what it was sent and answers as told:
"ok" (204), "hang" (reads the notice, then never answers until released), "trickle" (a 200 whose
body comes one byte every 0.5 s), "redirect" (302 to another address)."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler

from tests.loopback import LoopbackServer


class Receiver:
    def __init__(self, behaviour: str = "ok"):
        self.behaviour = behaviour
        self.payloads = []  # (content type, JSON) of every notice received
        self.answered = 0   # notices answered with 204
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                outer.payloads.append((self.headers.get("Content-Type"), json.loads(self.rfile.read(length))))
                behaviour = outer.behaviour
                if behaviour == "hang":
                    outer.release.wait(60)
                    return
                if behaviour == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if behaviour == "trickle":
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    try:
                        while not outer.release.is_set():
                            self.wfile.write(b" ")
                            self.wfile.flush()
                            time.sleep(0.5)
                    except OSError:
                        pass
                    return
                outer.answered += 1  # before answering: the sender may look right after
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.loopback = LoopbackServer(Handler)
        self.url = f"{self.loopback.origin}/hook"

    def close(self):
        self.release.set()
        self.loopback.close()
