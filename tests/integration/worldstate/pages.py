"""Helpers of the world-state page tests (the engine double over real HTTP on loopback)."""
from __future__ import annotations

from apps.worldstate.models import Engine

ADMIN = "admin-secret-for-pages"
DEAD_URL = "http://127.0.0.1:9"


def make_engine(personas, url, **fields) -> Engine:
    engine = Engine(team=personas.team, name=fields.pop("name", "main"), base_url=url,
                    namespace=fields.pop("namespace", "team-a"), **fields)
    engine.save()
    return engine


def html_of(response) -> str:
    return response.content.decode()


def field_errors(html: str, field: str) -> str:
    """The `.field` block (label, input, help, errors) of the input named `field`."""
    for chunk in html.split('<div class="field">')[1:]:
        chunk = chunk.split("</form>")[0]
        if f'name="{field}"' in chunk:
            return chunk
    raise AssertionError(f"no field {field}")


class InternalService:
    """A real HTTP server on loopback standing for a service the panel must never reach (or a
    second engine host): it answers every request with a secret page and records each one."""

    SECRET = "INTERNAL-SECRET-5d41402a"

    def __init__(self):
        import http.server

        from tests.loopback import LoopbackServer

        hits = self.hits = []
        secret = self.SECRET

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                hits.append((self.command, self.path, dict(self.headers)))
                body = ('{"rate_limit_enabled": true, "rate_limit_per_namespace_per_minute": 1, '
                        '"body_size_limit_single_bytes": 1, "body_size_limit_batch_bytes": 1, '
                        f'"connectors": [], "secret": "{secret}"}}').encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args):
                pass

        self.loopback = LoopbackServer(Handler)
        self.url = self.loopback.origin

    def close(self):
        self.loopback.close()
