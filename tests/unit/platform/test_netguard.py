"""fluxpanel.netguard: which addresses the panel refuses, DNS pinning, and bounded reads.

The servers here are real HTTP servers on loopback. The only stand-in is the system resolver
(socket.getaddrinfo), because a test cannot make a public DNS name change its answer; it plays the
attacker's DNS server in the rebinding test.
"""
from __future__ import annotations

import http.server
import socket
import threading
import time

import pytest
import requests

from fluxpanel import netguard


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "100.127.255.254", "192.0.0.8", "192.0.0.170", "0.0.0.0", "224.0.0.1", "255.255.255.255",
    "198.18.0.1", "::1", "::", "fe80::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1",
    "::ffff:169.254.169.254", "64:ff9b::7f00:1", "2002:7f00:1::",
])
def test_it_refuses_addresses_that_are_not_public(address):
    assert netguard.refusal_reason(address) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"])
def test_it_accepts_public_addresses(address):
    assert netguard.refusal_reason(address) is None


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST.", "metadata.google.internal",
                                  "db.internal", "printer.local", "2130706433", "127.1"])
def test_it_refuses_local_names_and_numeric_forms(host):
    with pytest.raises(netguard.OutboundRefused):
        netguard.check_host(host, 80)


def test_it_allows_private_addresses_in_development_mode():
    assert netguard.check_host("127.0.0.1", 80, allow_private=True)


def test_it_refuses_urls_that_are_not_http():
    for url in ("ftp://8.8.8.8/", "file:///etc/passwd", "gopher://8.8.8.8", "http://8.8.8.8:99999/"):
        with pytest.raises(netguard.OutboundRefused):
            netguard.check_url(url)


class _Handler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):
        type(self).hits.append(self.path)
        if self.path == "/drip":
            self.send_response(200)
            self.end_headers()
            for _ in range(50):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
            return
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/5")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"y" * (int(self.path.strip("/") or 5))
        self.send_response(200)
        if "nolength" not in self.headers.get("X-Test", ""):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback_server():
    _Handler.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()


def test_it_refuses_a_loopback_connection_before_sending_anything(loopback_server):
    with pytest.raises(netguard.OutboundRefused, match="loopback"):
        netguard.guarded_session().get(f"http://127.0.0.1:{loopback_server}/", timeout=2)
    assert _Handler.hits == []


def test_it_pins_the_checked_address_so_dns_rebinding_cannot_reach_loopback(loopback_server, monkeypatch):
    """The attacker's name resolves to a public address when the form checks it, then to 127.0.0.1
    when the panel connects. The check runs again on the connection's own resolution, so the
    request never reaches the loopback server."""
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["93.184.216.34"] + ["127.0.0.1"] * 10)

    def rebinding_dns(host, port, *args, **kwargs):
        if host == "rebind.example":
            return real_getaddrinfo(next(answers), port, *args, **kwargs)
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    netguard.check_url(f"http://rebind.example:{loopback_server}/")  # the form's check passes
    with pytest.raises(netguard.OutboundRefused, match="127.0.0.1"):
        netguard.guarded_session().get(f"http://rebind.example:{loopback_server}/", timeout=2)
    assert _Handler.hits == []


def test_it_reads_a_body_within_its_limit(loopback_server):
    session = netguard.guarded_session(allow_private=True)
    response = session.get(f"http://127.0.0.1:{loopback_server}/1000", stream=True, timeout=2)
    assert netguard.read_capped(response, 1000) == b"y" * 1000
    assert response.text == "y" * 1000


def test_it_stops_reading_at_the_byte_limit_with_or_without_a_length(loopback_server):
    session = netguard.guarded_session(allow_private=True)
    response = session.get(f"http://127.0.0.1:{loopback_server}/5000", stream=True, timeout=2)
    with pytest.raises(netguard.ResponseTooLarge):
        netguard.read_capped(response, 4096)
    response = session.get(f"http://127.0.0.1:{loopback_server}/300000", stream=True, timeout=2,
                           headers={"X-Test": "nolength"})
    with pytest.raises(netguard.ResponseTooLarge):
        netguard.read_capped(response, 100000)


def test_it_gives_up_on_a_trickling_peer_at_the_deadline(loopback_server):
    session = netguard.guarded_session(allow_private=True)
    response = session.get(f"http://127.0.0.1:{loopback_server}/drip", stream=True, timeout=2)
    started = time.monotonic()
    with pytest.raises(netguard.ResponseTooSlow):
        netguard.read_capped(response, 10**6, deadline=started + 0.5)
    # The drip would last 5 s; the deadline ends it after about 0.5 s (one byte gap of slack).
    assert time.monotonic() - started < 1.5


def test_it_guards_both_schemes():
    session = netguard.guarded_session()
    for url in ("https://x.example/", "http://x.example/"):
        assert isinstance(session.get_adapter(url), netguard.GuardedAdapter)


def test_it_turns_a_closed_connection_into_a_requests_error():
    assert issubclass(requests.exceptions.ChunkedEncodingError, requests.RequestException)


def test_it_hands_back_a_redirect_without_following_it(loopback_server):
    session = netguard.guarded_session(allow_private=True)
    response = session.get(f"http://127.0.0.1:{loopback_server}/redirect", timeout=2)
    assert response.status_code == 302 and response.headers["Location"] == "/5"
    assert _Handler.hits == ["/redirect"]
