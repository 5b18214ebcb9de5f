"""A hostile peer over real HTTP on loopback: whatever path is asked, it answers what the current
example chose (status, content type, body), so every node/engine page meets malformed answers.

The answers are JSON of any shape, and dicts whose keys are the names the panel's peer clients
read (found in their source), so a garbage value lands exactly where the code looks.
"""
from __future__ import annotations

import json
import re
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from hypothesis import strategies as st

from tests.fuzz.surface import REPO
from tests.loopback import LoopbackServer

CLIENT_SOURCES = ["apps/worldstate", "apps/nodes", "fluxpanel/fluxos/client"]
KEY_READS = re.compile(r"""(?:\[\s*|\.get\(\s*)["']([A-Za-z_]\w{0,40})["']""")


def keys_the_clients_read() -> list[str]:
    names = set()
    for folder in CLIENT_SOURCES:
        root = REPO / folder
        paths = [root] if root.is_file() else root.rglob("*.py")
        for path in paths:
            if "migrations" not in Path(path).parts:
                names.update(KEY_READS.findall(Path(path).read_text()))
    return sorted(names)


class HostilePeer:
    """Start with `with HostilePeer() as peer:`; set `peer.answer = (status, type, body)`."""

    def __init__(self):
        self.answer = (200, "application/json", b"{}")
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                status, content_type, body = peer.answer
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _reply

            def log_message(self, *args):  # quiet: the fuzz sends thousands
                pass

        self.loopback = LoopbackServer(Handler)
        self.url = self.loopback.origin

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.loopback.close()


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([10**20, 1e20, 1e308, -1, 0, 2**63, 2**31]),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
    st.sampled_from(["", "NaN", "1e20", "²", "abc", "-1", "2026-13-45T99:99:99Z", "x" * 2000]),
)


def answers(keys: list[str]):
    """(status, content type, body) of one hostile answer."""
    key = st.sampled_from(keys) if keys else st.text(max_size=10)
    values = st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(key, inner, max_size=6)), max_leaves=12)
    shaped = st.dictionaries(key, values, min_size=1, max_size=8)
    # FluxOS wraps answers in {"status": ..., "data": ...}; give it garbage inside that too.
    enveloped = st.fixed_dictionaries({"status": st.sampled_from(["success", "error", 1, None]),
                                       "data": values})
    body = st.one_of(
        shaped.map(json.dumps), enveloped.map(json.dumps), values.map(json.dumps),
        st.sampled_from(["", "not json", "[" * 3000, '{"a": NaN}', '{"a": 1e999}', "\xff\xfe"]),
    )
    return st.tuples(
        st.sampled_from([200, 200, 200, 201, 204, 400, 404, 429, 500, 502]),
        st.sampled_from(["application/json", "application/json", "text/plain", "text/html", ""]),
        body.map(lambda text: text.encode("utf-8", "surrogatepass")),
    )
