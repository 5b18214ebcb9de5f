"""Human reasons (fluxpanel/fluxos/client/reasons.py): every failure the node client raises,
produced for real against the simulated fleet's faults and real sockets, maps to a short reason
a node operator understands, with the technical detail kept apart."""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fluxpanel.fluxos.client import FluxClientError, NodeClient
from fluxpanel.fluxos.client.reasons import Reason, explain, seconds_text, shorten
from tests.loopback import LoopbackServer
from tests.sim.fluxnode_tls import self_signed_context

BOUNDS = {"timeout": (1.0, 1.0), "deadline_s": 2.0, "max_body": 1024 * 1024}


def reason_of(call) -> Reason:
    with pytest.raises(FluxClientError) as info:
        call()
    return explain(info.value)


def sim_client(fleet, index=0, **options):
    return NodeClient(fleet.urls[index], allow_private=True, **{**BOUNDS, **options})


def assert_human(reason: Reason):
    """No Python or urllib3 text in the short reason, and never cut mid-word."""
    for word in ("Error(", "Errno", "Pool(", "Max retries", "(104", "'", "Traceback"):
        assert word not in reason.short, reason.short
    assert len(reason.short) <= 80 and not reason.short.endswith(" …")
    assert reason.detail and reason.detail != reason.short


@pytest.fixture
def scripted():
    """A loopback HTTP peer answering every GET with `peer.body` (bytes) at HTTP 200."""
    class Peer:
        body = b""

    peer = Peer()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(peer.body)))
            self.end_headers()
            self.wfile.write(peer.body)

        def log_message(self, *args):
            pass

    server = LoopbackServer(Handler)
    peer.url = server.origin
    yield peer
    server.close()


def test_it_says_connection_refused_for_a_closed_port():
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    reason = reason_of(NodeClient(f"http://127.0.0.1:{port}", allow_private=True, **BOUNDS).info)
    assert (reason.kind, reason.short) == ("refused", "connection refused")
    assert "Connection refused" in reason.detail and f":{port}" in reason.detail
    assert_human(reason)


def test_it_says_connection_reset_when_the_node_drops_the_connection(fleet):
    fleet.inject(0, "down")
    reason = reason_of(sim_client(fleet).info)
    assert (reason.kind, reason.short) == ("reset", "connection reset")
    assert "ConnectionResetError" in reason.detail
    assert_human(reason)


def test_it_says_the_name_does_not_resolve():
    reason = reason_of(NodeClient("http://no-such-node.invalid:16127", **BOUNDS).info)
    assert (reason.kind, reason.short) == ("dns", "name does not resolve")
    assert "no-such-node.invalid" in reason.detail
    assert_human(reason)


def test_it_says_tls_failed_for_plain_http_on_https(fleet):
    reason = reason_of(NodeClient(fleet.urls[0].replace("http://", "https://"), allow_private=True,
                                  **BOUNDS).info)
    assert (reason.kind, reason.short) == ("tls", "TLS handshake failed")
    assert "SSL" in reason.detail
    assert_human(reason)


def test_it_says_the_certificate_is_not_accepted():
    """A self-signed certificate like FluxOS's own, with verification on (the default)."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = self_signed_context().wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    try:
        url = f"https://127.0.0.1:{httpd.server_address[1]}"
        reason = reason_of(NodeClient(url, allow_private=True, **BOUNDS).info)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert (reason.kind, reason.short) == ("tls", "TLS certificate not accepted")
    assert "CERTIFICATE_VERIFY_FAILED" in reason.detail
    assert_human(reason)


def test_it_says_timed_out_with_the_seconds_for_a_hung_node(fleet):
    fleet.inject(0, "hang")
    reason = reason_of(sim_client(fleet).info)
    assert (reason.kind, reason.short) == ("timeout", "timed out after 1 s")
    assert "NodeTimeout" in reason.detail
    assert_human(reason)


def test_it_says_too_slow_for_a_node_that_drips_its_answer(fleet):
    fleet.inject(0, "drip", interval_ms=200)
    reason = reason_of(sim_client(fleet).info)
    assert (reason.kind, reason.short) == ("timeout", "answer too slow, cut off after 2 s")
    assert_human(reason)


def test_it_says_answered_http_500(fleet):
    fleet.inject(0, "http500")
    reason = reason_of(sim_client(fleet).info)
    assert (reason.kind, reason.short) == ("http", "answered HTTP 500")
    assert_human(reason)


def test_it_says_the_answer_is_too_large(fleet):
    fleet.inject(0, "huge", mb=5)
    reason = reason_of(sim_client(fleet).info)
    assert (reason.kind, reason.short) == ("too_large", "answer too large (over 1 MiB)")
    assert_human(reason)


def test_it_says_not_a_fluxos_answer_for_broken_json(fleet):
    fleet.inject(0, "malformed")
    reason = reason_of(sim_client(fleet).info)
    assert (reason.kind, reason.short) == ("not_flux", "not a FluxOS answer")
    assert "not JSON" in reason.detail
    assert_human(reason)


def test_it_says_not_a_fluxos_answer_for_json_without_the_envelope(scripted):
    scripted.body = json.dumps({"hello": "world"}).encode()
    reason = reason_of(NodeClient(scripted.url, allow_private=True, **BOUNDS).info)
    assert (reason.kind, reason.short) == ("not_flux", "not a FluxOS answer")
    assert "envelope" in reason.detail
    assert_human(reason)


def test_it_quotes_fluxos_for_an_error_inside_http_200(fleet):
    reason = reason_of(lambda: sim_client(fleet).fresh().app_spec("nosuchapp"))
    assert reason.kind == "flux_error"
    assert reason.short == "FluxOS error: Application not found"
    assert_human(reason)


def test_it_says_not_allowed_for_the_panels_own_refusal():
    reason = reason_of(NodeClient("http://127.0.0.1:16127", **BOUNDS).info)  # loopback, not allowed
    assert (reason.kind, reason.short) == ("netguard", "address not allowed (not public)")
    assert "loopback" in reason.detail
    assert_human(reason)


def test_it_never_cuts_a_word():
    text = "FluxOS error: " + "averyveryverylongword " * 10
    short = shorten(text, 40)
    assert len(short) <= 40 and short.endswith("…")
    assert short[:-1].split()[-1] == "averyveryverylongword"
    assert shorten("short enough", 40) == "short enough"
    assert shorten("a\nb   c", 40) == "a b c"
    assert seconds_text(5.05) == "5 s" and seconds_text(0.25) == "0.2 s"


def test_it_names_a_panel_error_without_python_text_in_the_short_reason():
    reason = explain(KeyError("x"))
    assert reason.short == "panel error while asking the node" and "KeyError" in reason.detail
