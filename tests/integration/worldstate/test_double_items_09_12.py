"""The engine double against §15 of the reference, items 9–12 (WebSocket, history, batch,
connectors), over bare HTTP and a bare WebSocket."""
from __future__ import annotations

import json
import re
import time

import pytest
import websocket

from tests.integration.worldstate.conftest import event, wait_for

RFC3339_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z")


# ---- 9. WebSocket -------------------------------------------------------------------------------


@pytest.fixture
def quiet(engine):
    """The double with metrics pushed rarely, so only state traffic reaches the socket."""
    engine.configure(metrics_interval=60)
    return engine


def connect(engine, subscriptions: list[str] | None = None, query: str = ""):
    socket = websocket.create_connection(f"{engine.ws_url}{query}", timeout=2)
    for entity_id in subscriptions or ():
        socket.send(json.dumps({"type": "subscribe", "entity_id": entity_id}))
    wait_for(lambda: set(subscriptions or ()) in engine.ws_subscriptions())
    return socket


def receive(socket, timeout: float = 2.0) -> dict | None:
    socket.settimeout(timeout)
    try:
        return json.loads(socket.recv())
    except websocket.WebSocketTimeoutException:
        return None


def test_it_item09_ws_open_without_auth_and_no_greeting(quiet, raw):
    quiet.reset(auth=True, metrics_interval=60)
    socket = connect(quiet, query="?token=ignored")
    try:
        assert receive(socket, 0.3) is None
    finally:
        socket.close()


def test_it_item09_ws_empty_subscription_set_gets_everything(quiet, raw):
    socket = connect(quiet)
    try:
        raw.post("/api/events", body=event("a", {"x": 1}))
        raw.post("/api/events", body=event("b", {"x": 2}))
        assert [receive(socket)["entity_id"] for _ in range(2)] == ["a", "b"]
    finally:
        socket.close()


def test_it_item09_ws_exact_id_or_star_only(quiet, raw):
    exact, star = connect(quiet, ["b", "a/"]), connect(quiet, ["*"])
    try:
        raw.post("/api/events", body=event("a/x", {"v": 1}))  # no prefix matching
        raw.post("/api/events", body=event("b", {"v": 2}))
        assert receive(exact)["entity_id"] == "b"
        assert [receive(star)["entity_id"] for _ in range(2)] == ["a/x", "b"]
    finally:
        exact.close()
        star.close()


def test_it_item09_ws_unsubscribing_last_id_means_all_again(quiet, raw):
    socket = connect(quiet, ["b"])
    try:
        socket.send(json.dumps({"type": "unsubscribe", "entity_id": "b"}))
        wait_for(lambda: quiet.ws_subscriptions() == [set()])
        raw.post("/api/events", body=event("a", {"v": 1}))
        assert receive(socket)["entity_id"] == "a"
    finally:
        socket.close()


def test_it_item09_ws_one_state_update_per_property_even_if_unchanged(quiet, raw):
    raw.post("/api/events", body=event("a", {"x": 1}))
    socket = connect(quiet)
    try:
        raw.post("/api/events", body=event("a", {"x": 1, "y": None}))
        first, second = receive(socket), receive(socket)
        assert set(first) == {"type", "entity_id", "property", "value", "timestamp"}
        assert (first["type"], first["property"], first["value"]) == ("state_update", "x", 1)
        assert (second["property"], second["value"]) == ("y", None)
        assert RFC3339_Z.fullmatch(first["timestamp"])
    finally:
        socket.close()


def test_it_item09_ws_entity_deleted_to_everyone_only_if_existed(quiet, raw):
    raw.post("/api/events", body=event("a", {"x": 1}))
    socket = connect(quiet, ["someone-else"])
    try:
        raw.delete("/api/state/entities/never-there")
        raw.delete("/api/state/entities/a")
        message = receive(socket)
        assert set(message) == {"type", "entity_id", "timestamp"}
        assert (message["type"], message["entity_id"]) == ("entity_deleted", "a")
        assert RFC3339_Z.fullmatch(message["timestamp"])
        assert receive(socket, 0.2) is None
    finally:
        socket.close()


def test_it_item09_ws_metrics_update_every_interval_to_everyone(engine, raw):
    engine.configure(metrics_interval=0.2)
    raw.post("/api/events", body=event("a", {"x": 1}, source="one"))
    raw.post("/api/events", body=event("b", {"x": 1}, source="two"))
    socket = connect(engine, ["nothing"])
    try:
        first = receive(socket)
        started = time.monotonic()
        second = receive(socket)
        assert 0.1 < time.monotonic() - started < 1.0
        assert first["type"] == second["type"] == "metrics_update"
        assert set(first) == {"type", "timestamp", "entities", "events", "websocket",
                              "publishers"}
        assert first["entities"] == {"total": 2}
        assert first["events"] == {"total": 2, "rate_per_second": 0.4}
        assert first["websocket"] == {"connections": 1}
        assert first["publishers"] == {"active": 2}
        assert RFC3339_Z.fullmatch(first["timestamp"])
    finally:
        socket.close()


@pytest.mark.parametrize("frame", [
    "not json", json.dumps({"type": "subscribe", "entityId": "a"}),
    json.dumps({"type": "hello"}), json.dumps({"type": "subscribe", "entity_id": 5}),
    json.dumps([1, 2]),
])
def test_it_item09_ws_invalid_messages_are_ignored(quiet, raw, frame):
    socket = connect(quiet)
    try:
        socket.send(frame)
        socket.send_binary(b"\x00\x01")
        assert receive(socket, 0.2) is None  # no error reply
        raw.post("/api/events", body=event("a", {"x": 1}))
        assert receive(socket)["entity_id"] == "a"  # still open, still "all"
        assert quiet.ws_subscriptions() == [set()]
    finally:
        socket.close()


def test_it_item09_ws_ping_gets_pong(quiet):
    socket = connect(quiet)
    try:
        socket.ping("hi")
        opcode, frame = socket.recv_data_frame(True)
        assert opcode == websocket.ABNF.OPCODE_PONG and frame.data == b"hi"
    finally:
        socket.close()


# ---- 10. History --------------------------------------------------------------------------------


def history(raw, **params):
    return raw.get("/api/events", params=params)


def test_it_item10_history_entity_required(engine, raw):
    response = history(raw)
    assert (response.status_code, response.json()) == (400,
                                                        {"error": "entity parameter is required"})


@pytest.mark.parametrize("since", ["yesterday", "2026-02-25", "2026-02-25T00:00:00",
                                   "2026-02-25T00:00:00 00:00"])
def test_it_item10_history_since_must_be_rfc3339_with_offset(engine, raw, since):
    response = history(raw, entity="a", since=since)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid `since` timestamp (expected ISO 8601)"}


def test_it_item10_history_unencoded_plus_breaks_since(engine, raw):
    response = raw.get("/api/events?entity=a&since=2026-02-25T00:00:00+00:00")
    assert response.status_code == 400
    encoded = raw.get("/api/events?entity=a&since=2026-02-25T00:00:00%2B00:00")
    assert encoded.status_code == 200


@pytest.mark.parametrize("limit", ["abc", "-1", ""])
def test_it_item10_history_bad_limit_is_plain_text_400(engine, raw, limit):
    response = history(raw, entity="a", limit=limit)
    assert response.status_code == 400
    assert response.text.startswith("Failed to deserialize query string: ")


def test_it_item10_history_limit_clamped_and_oldest_n_newest_first(engine, raw):
    raw.post("/api/events/batch", body={"events": [event("a", {"n": n}) for n in range(502)]})

    def numbers(**params):
        return [item["payload"]["properties"]["n"]
                for item in history(raw, entity="a", **params).json()]
    assert numbers() == list(range(99, -1, -1))  # default 100, the oldest, newest first
    assert numbers(limit=0) == [0]
    assert numbers(limit=3) == [2, 1, 0]
    assert len(numbers(limit=1000)) == 500


def test_it_item10_history_exact_entity_match_and_tombstones(engine, raw):
    raw.post("/api/events", body=event("a", {"x": 1}))
    raw.post("/api/events", body=event("ab", {"x": 1}))
    raw.delete("/api/state/entities/a")
    streams = [item["stream"] for item in history(raw, entity="a").json()]
    assert streams == ["flux.events.deletions", "sensors.temp"]


def test_it_item10_history_since_filters_by_store_time_in_whole_seconds(engine, raw):
    raw.post("/api/events", body=event("a", {"x": 1}))

    def backdate(core):
        stored_ns, stored = core.history["a"][0]
        core.history["a"][0] = (stored_ns - 25 * 3600 * 10**9, stored)
    engine.call(backdate)
    raw.post("/api/events", body=event("a", {"x": 2}))
    assert len(history(raw, entity="a").json()) == 1  # default since: now - 24 h
    assert len(history(raw, entity="a", since="2000-01-01T00:00:00Z").json()) == 2
    now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    assert len(history(raw, entity="a", since=now + ".999Z").json()) == 1  # truncated


def test_it_item10_history_stored_envelope_shape(engine, raw):
    raw.post("/api/events", body=event("a", {"x": 1}))
    (stored,) = history(raw, entity="a").json()
    assert list(stored) == ["eventId", "stream", "source", "timestamp", "payload"]


# ---- 11. Batch ingest ---------------------------------------------------------------------------


@pytest.mark.parametrize("body,message", [
    ({"events": [event(), {k: v for k, v in event().items() if k != "timestamp"}]},
     "missing field `timestamp`"),
    ({"events": [event(timestamp="soon")]}, 'invalid type: string "soon", expected i64'),
    ([event()], "invalid type: sequence, expected struct BatchRequest"),
    ({"events": []}, "Batch request must contain at least one event"),
    ({}, "missing field `events`"),
])
def test_it_item11_batch_request_level_400(engine, raw, body, message):
    response = raw.post("/api/events/batch", body=body)
    assert response.status_code == 400
    assert response.json()["error"].startswith(message)
    assert raw.get("/api/state/entities").json() == []  # nothing applied


def test_it_item11_batch_items_in_order_with_three_keys(engine, raw):
    response = raw.post("/api/events/batch", body={"events": [
        event("a", {"v": 1}), event("a", {"v": 2}, stream="Nope"), event("a", {"v": 3})]})
    assert response.status_code == 200
    body = response.json()
    assert (body["successful"], body["failed"]) == (2, 1)
    assert all(set(item) == {"eventId", "stream", "error"} for item in body["results"])
    assert body["results"][1] == {"eventId": None, "stream": "Nope", "error":
                                  "validation failed: invalid stream format 'Nope': must be "
                                  "lowercase with optional dots"}
    assert body["results"][2]["error"] is None
    assert raw.get("/api/state/entities/a").json()["properties"] == {"v": 3}


def test_it_item11_batch_auth_and_rate_errors_are_prefixed_and_still_200(auth_engine, raw):
    _id, token = auth_engine.register_namespace("matt")
    auth_engine.set_config(rate_limit_per_namespace_per_minute=1)
    response = raw.post("/api/events/batch", token=token, body={"events": [
        event("matt/a"), event("matt/b"), event("plain"), event("ghost/a")]})
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["error"] is None
    assert results[1]["error"] == "rate limit exceeded"
    assert results[2]["error"] == ("authorization failed: Invalid entity ID: Entity ID 'plain' "
                                   "missing namespace prefix (expected 'namespace/entity' format)")
    assert results[3]["error"].startswith("authorization failed: Namespace not found: ")
    assert all(item["eventId"] for item in results)


def test_it_item11_batch_without_token_is_200_with_item_errors(auth_engine, raw):
    response = raw.post("/api/events/batch", body={"events": [event("matt/a")]})
    assert response.status_code == 200
    assert response.json()["results"][0]["error"] == (
        "authorization failed: Invalid token: Authorization token not provided")


def test_it_item11_batch_publish_failures(engine, raw):
    engine.configure(fail_publish=True)
    response = raw.post("/api/events/batch", body={"events": [event(stream="s")]})
    assert response.json()["results"][0]["error"] == (
        "publish failed: Failed to publish event to subject 'flux.events.s'")


# ---- 12. Connectors -----------------------------------------------------------------------------

NAMES = ["github", "gmail", "linkedin", "calendar"]


def test_it_item12_fixed_list_of_four_not_configured_without_store(engine, raw):
    assert raw.get("/api/connectors").json() == {"connectors": [
        {"name": name, "enabled": False, "status": "not_configured"} for name in NAMES]}


@pytest.mark.parametrize("name,interval", [("github", 300), ("gmail", 60), ("linkedin", 600),
                                           ("calendar", 300)])
def test_it_item12_detail_shape_and_poll_intervals(engine, raw, name, interval):
    assert raw.get(f"/api/connectors/{name}").json() == {
        "name": name, "enabled": False, "status": "not_configured",
        "poll_interval_seconds": interval}


def test_it_item12_unknown_connector_404(engine, raw):
    assert raw.get("/api/connectors/invalid").json() == {"error":
                                                         "Connector 'invalid' not found"}
    engine.configure(credentials=True)
    assert raw.post("/api/connectors/invalid/token", body={"token": "t"}).status_code == 404
    assert raw.delete("/api/connectors/invalid/token").status_code == 404


def test_it_item12_token_routes_500_without_store(engine, raw):
    message = {"error": "Credential storage not available (FLUX_ENCRYPTION_KEY not set)"}
    stored = raw.post("/api/connectors/github/token", body={"token": "pat"})
    assert (stored.status_code, stored.json()) == (500, message)
    assert raw.delete("/api/connectors/github/token").json() == message


def test_it_item12_store_and_delete_token_internal_mode(engine, raw):
    engine.configure(credentials=True)
    assert raw.delete("/api/connectors/github/token").json() == {
        "error": "No credentials found for connector 'github'"}
    assert raw.post("/api/connectors/github/token", body={"token": "pat"}).json() == {
        "success": True}
    listed = raw.get("/api/connectors").json()["connectors"]
    assert listed[0] == {"name": "github", "enabled": True, "status": "configured"}
    # The detail route always says not_configured when auth is off.
    assert raw.get("/api/connectors/github").json()["status"] == "not_configured"
    assert raw.delete("/api/connectors/github/token").json() == {"success": True}
    assert raw.get("/api/connectors").json()["connectors"][0]["enabled"] is False


def test_it_item12_bearer_string_is_the_owner_in_auth_mode(auth_engine, raw):
    auth_engine.configure(credentials=True)
    assert raw.post("/api/connectors/gmail/token", body={"token": "pat"},
                    token="anything-alice").status_code == 200
    alice = raw.get("/api/connectors", token="anything-alice").json()["connectors"]
    bob = raw.get("/api/connectors", token="bob").json()["connectors"]
    assert alice[1]["status"] == "configured" and bob[1]["status"] == "not_configured"
    assert raw.get("/api/connectors/gmail", token="anything-alice").json()["enabled"] is True


@pytest.mark.parametrize("header,message", [
    (None, "Invalid token: Authorization token not provided"),
    ("Basic x", "Invalid token: Invalid authorization token format"),
])
def test_it_item12_auth_mode_needs_a_bearer(auth_engine, raw, header, message):
    headers = {} if header is None else {"Authorization": header}
    response = raw.get("/api/connectors", headers=headers)
    assert (response.status_code, response.json()) == (401, {"error": message})


def test_it_item12_token_body_is_typed_json(engine, raw):
    engine.configure(credentials=True)
    assert raw.post("/api/connectors/github/token", data=b'{"token":"x"}').status_code == 415
    assert raw.post("/api/connectors/github/token", body={"pat": "x"}).status_code == 422


def test_it_item12_oauth_routes_absent_without_encryption_key(engine, raw):
    response = raw.get("/api/connectors/github/oauth/start")
    assert (response.status_code, response.content) == (404, b"")
