"""WorldStateClient against the double in public (auth) mode, and every error mapping."""
from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from apps.worldstate.client import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    WorldStateError,
    WorldStateUnavailable,
)
from tests.integration.worldstate.conftest import ADMIN_TOKEN
from tests.sim.worldstate import loopback_client


@pytest.fixture
def team(admin_client, auth_engine):
    """A registered namespace and a client holding its token."""
    _namespace_id, token = admin_client.register_namespace("team-a")
    return loopback_client(auth_engine.url, token=token, timeout=5)


def test_it_register_namespace_returns_id_and_token(admin_client):
    namespace_id, token = admin_client.register_namespace("dawn-coral")
    assert namespace_id.startswith("ns_") and len(namespace_id) == 11
    assert len(token) == 36
    info = admin_client.namespace("dawn-coral")
    assert info["namespaceId"] == namespace_id and info["entityCount"] == 0
    assert token not in str(info)


def test_it_register_namespace_errors_map_to_classes(admin_client, auth_engine):
    admin_client.register_namespace("amber-river")
    with pytest.raises(Conflict) as caught:
        admin_client.register_namespace("amber-river")
    assert caught.value.status == 409
    assert caught.value.message == "Namespace name already exists"
    with pytest.raises(BadRequest, match="too short"):
        admin_client.register_namespace("ab")
    with pytest.raises(Unauthorized, match="Admin token required"):
        loopback_client(auth_engine.url, admin_token="wrong").register_namespace("other")


def test_it_namespace_lookup_and_delete(admin_client):
    admin_client.register_namespace("gone-soon")
    admin_client.delete_namespace("gone-soon")
    assert admin_client.namespace("gone-soon") is None
    with pytest.raises(NotFound, match="Namespace not found"):
        admin_client.delete_namespace("gone-soon")


def test_it_publish_with_namespace_token(team):
    event_id = team.publish("sensors", "panel", "team-a/sensor-01", {"temp": 20})
    assert len(event_id) == 36
    assert team.entity("team-a/sensor-01").properties == {"temp": 20}


def test_it_publish_without_token_is_unauthorized(auth_engine):
    anonymous = loopback_client(auth_engine.url)
    with pytest.raises(Unauthorized) as caught:
        anonymous.publish("s", "p", "team-a/x", {"v": 1})
    assert caught.value.status == 401
    assert caught.value.message == "Authorization token not provided"


def test_it_publish_to_foreign_namespace_is_forbidden(team, admin_client):
    admin_client.register_namespace("team-b")
    with pytest.raises(Forbidden) as caught:
        team.publish("s", "p", "team-b/x", {"v": 1})
    assert caught.value.message == (
        "Token does not have permission to write to namespace 'team-b'")


def test_it_admin_token_is_not_a_write_token(admin_client, auth_engine):
    admin_client.register_namespace("team-c")
    as_admin = loopback_client(auth_engine.url, token=ADMIN_TOKEN)
    with pytest.raises(Forbidden):
        as_admin.publish("s", "p", "team-c/x", {"v": 1})


def test_it_batch_items_carry_auth_errors(team):
    result = team.publish_batch([
        {"stream": "s", "source": "p", "entity_id": "team-a/ok", "properties": {"v": 1}},
        {"stream": "s", "source": "p", "entity_id": "nobody/x", "properties": {"v": 1}},
    ])
    assert (result.successful, result.failed) == (1, 1)
    assert result.results[1].error == (
        "authorization failed: Namespace not found: Namespace 'nobody' not found. "
        "Get a namespace at flux-universe.com")
    assert result.results[1].event_id is not None


def test_it_delete_and_delete_many_in_auth_mode(team):
    for name in ("a", "b", "c"):
        team.publish("s", "p", f"team-a/{name}", {"v": 1})
    assert len(team.delete("team-a/a")) == 36
    assert team.delete_many(namespace="team-a") == 2
    assert team.entities(namespace="team-a") == []


def test_it_delete_with_bad_id_is_bad_request(team):
    with pytest.raises(BadRequest) as caught:
        team.delete("team-a/x/y")
    assert caught.value.message.startswith("InvalidFormat(")


def test_it_delete_in_foreign_namespace_is_forbidden(team, admin_client):
    admin_client.register_namespace("team-d")
    with pytest.raises(Forbidden, match="Token does not own namespace"):
        team.delete("team-d/x")


def test_it_update_admin_config_needs_admin_token(auth_engine):
    with pytest.raises(Unauthorized) as caught:
        loopback_client(auth_engine.url).update_admin_config(rate_limit_enabled=False)
    assert caught.value.message == "Unauthorized"
    admin = loopback_client(auth_engine.url, admin_token=ADMIN_TOKEN)
    assert admin.update_admin_config(rate_limit_enabled=False)["rate_limit_enabled"] is False


def test_it_connectors_need_a_bearer_in_auth_mode(team, auth_engine):
    assert len(team.connectors()) == 4
    with pytest.raises(Unauthorized, match="Invalid token: Authorization token not provided"):
        loopback_client(auth_engine.url).connectors()


def test_it_rate_limit_raises_after_bounded_retries(team, auth_engine):
    auth_engine.configure(retry_after=0)
    auth_engine.set_config(rate_limit_per_namespace_per_minute=1)
    team.publish("s", "p", "team-a/x", {"v": 1})
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        team.publish("s", "p", "team-a/x", {"v": 2})
    assert caught.value.status == 429
    assert caught.value.message == "rate limit exceeded"
    assert caught.value.retry_after == 0
    assert time.monotonic() - started < 2


def test_it_rate_limit_long_retry_after_fails_at_once(team, auth_engine):
    auth_engine.set_config(rate_limit_per_namespace_per_minute=1)  # engine says Retry-After: 60
    team.publish("s", "p", "team-a/x", {"v": 1})
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        team.publish("s", "p", "team-a/x", {"v": 2})
    assert caught.value.retry_after == 60
    assert time.monotonic() - started < 1


def test_it_rate_limit_retry_succeeds_once_bucket_refills(team, auth_engine):
    """60/min refills one token a second; a Retry-After of 1 s is waited out, then it passes."""
    auth_engine.configure(retry_after=1)
    auth_engine.set_config(rate_limit_per_namespace_per_minute=60)
    drained = team.publish_batch([{"stream": "s", "source": "p", "entity_id": "team-a/x",
                                   "properties": {"n": n}} for n in range(60)])
    assert drained.successful == 60
    assert len(team.publish("s", "p", "team-a/x", {"n": "after"})) == 36
    assert team.entity("team-a/x").properties == {"n": "after"}


def test_it_engine_413_maps_to_payload_too_large(team, auth_engine):
    auth_engine.set_config(body_size_limit_batch_bytes=10)
    with pytest.raises(PayloadTooLarge, match="payload too large"):
        team.publish_batch([{"stream": "s", "source": "p", "entity_id": "team-a/x",
                             "properties": {}}])


def test_it_summarises_a_plain_text_rejection_instead_of_echoing_it(admin_client):
    """Only the engine handlers' short `{"error": ...}` messages are shown; any other error body
    (here axum's plain text; behind a bad URL, an internal service's page) is summarised."""
    with pytest.raises(WorldStateError) as caught:
        admin_client._send("POST", "/api/namespaces", b"{}", auth=ADMIN_TOKEN)
    assert caught.value.status == 422
    assert "missing field" not in str(caught.value)
    assert caught.value.message.startswith("The engine answered an error (")
    assert "text/plain; not shown" in caught.value.message


def test_it_connection_refused_is_unavailable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(WorldStateUnavailable) as caught:
        loopback_client(f"http://127.0.0.1:{port}", timeout=1).entities()
    assert caught.value.status is None
    assert "cannot be reached" in str(caught.value)


def test_it_timeout_is_unavailable():
    """A listener that accepts but never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    try:
        ws_client = loopback_client(f"http://127.0.0.1:{server.getsockname()[1]}", timeout=0.3)
        with pytest.raises(WorldStateUnavailable, match="did not answer within 0.3 s"):
            ws_client.admin_config()
    finally:
        for connection, _address in accepted:
            connection.close()
        server.close()


def test_it_non_json_success_is_an_error():
    """A 200 that isn't JSON (say, a proxy's HTML page) is reported, not crashed on."""
    class HtmlPage(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>login</html>")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), HtmlPage)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        ws_client = loopback_client(f"http://127.0.0.1:{server.server_port}")
        with pytest.raises(WorldStateError, match="is not JSON the panel can read") as caught:
            ws_client.entities()
        assert caught.value.status == 200
        assert ws_client.health() is False
    finally:
        server.shutdown()
        server.server_close()
