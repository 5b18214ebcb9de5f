"""The engine double against §15 of the reference, items 1–5, over bare HTTP."""
from __future__ import annotations

import json
import re
import time
import uuid

import pytest

from tests.integration.worldstate.conftest import ADMIN_TOKEN, event, wait_for

RFC3339_PLUS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?\+00:00")


# ---- 1. Routes ----------------------------------------------------------------------------------


def test_it_item01_routes_ingest_and_state_keys(engine, raw):
    published = raw.post("/api/events", body=event("a/b"))
    assert published.status_code == 200
    assert set(published.json()) == {"eventId", "stream"}
    batch = raw.post("/api/events/batch", body={"events": [event("c")]})
    assert set(batch.json()) == {"successful", "failed", "results"}
    listing = raw.get("/api/state/entities")
    assert listing.status_code == 200
    assert {tuple(sorted(item)) for item in listing.json()} == {("id", "lastUpdated",
                                                                 "properties")}
    assert raw.get("/api/state/entities/a%2Fb").json()["id"] == "a/b"
    assert raw.get("/api/events", params={"entity": "a/b"}).status_code == 200
    deleted = raw.delete("/api/state/entities/a%2Fb")
    assert set(deleted.json()) == {"entity_id", "eventId"}
    assert deleted.json()["entity_id"] == "a/b"
    batch_deleted = raw.post("/api/state/entities/delete", body={"entity_ids": ["c"]})
    assert batch_deleted.json() == {"deleted": 1, "failed": 0, "errors": []}


def test_it_item01_routes_namespace_keys(auth_engine, raw):
    created = raw.post("/api/namespaces", body={"name": "matt"}, token=ADMIN_TOKEN)
    assert created.status_code == 200
    assert set(created.json()) == {"namespaceId", "name", "token"}
    looked_up = raw.get("/api/namespaces/matt")
    assert set(looked_up.json()) == {"namespaceId", "name", "createdAt", "entityCount"}
    gone = raw.delete("/api/namespaces/matt", token=ADMIN_TOKEN)
    assert (gone.status_code, gone.content) == (204, b"")


def test_it_item01_routes_admin_and_connectors(engine, raw):
    assert raw.get("/api/admin/config").status_code == 200
    assert raw.put("/api/admin/config", body={}).status_code == 200
    assert raw.get("/api/connectors").json()["connectors"][0]["name"] == "github"
    assert raw.get("/api/connectors/gmail").status_code == 200


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/health", 404),
    ("GET", "/metrics", 404),
    ("GET", "/api/nothing", 404),
    ("PUT", "/api/events", 405),
    ("DELETE", "/api/events/batch", 405),
    ("GET", "/api/namespaces", 405),  # there is no namespace listing
    ("POST", "/api/admin/config", 405),
])
def test_it_item01_routes_unknown_404_wrong_method_405_empty_bodies(engine, raw, method, path,
                                                                 status):
    response = raw.request(method, path)
    assert (response.status_code, response.content) == (status, b"")


# ---- 2. Ingest pipeline -------------------------------------------------------------------------


def test_it_item02_size_is_checked_before_parsing(engine, raw):
    engine.set_config(body_size_limit_single_bytes=10)
    too_big = raw.post("/api/events", data=b"not json!!!")  # 11 bytes
    assert too_big.status_code == 413
    assert too_big.json() == {"error": "payload too large"}


def test_it_item02_body_exactly_at_limit_is_accepted(engine, raw):
    body = json.dumps(event()).encode()
    engine.set_config(body_size_limit_single_bytes=len(body))
    assert raw.post("/api/events", data=body).status_code == 200


@pytest.mark.parametrize("body,message", [
    (b"", "EOF while parsing a value at line 1 column 0"),
    (json.dumps({k: v for k, v in event().items() if k != "timestamp"}).encode(),
     "missing field `timestamp`"),
    (json.dumps(event(timestamp="x")).encode(), 'invalid type: string "x", expected i64'),
    (json.dumps(event(timestamp=1.5)).encode(), "invalid type: floating point `1.5`, expected i64"),
    (json.dumps(event(stream=5)).encode(), "invalid type: integer `5`, expected a string"),
    (json.dumps({k: v for k, v in event().items() if k != "payload"}).encode(),
     "missing field `payload`"),
    (b"[1]", "invalid type: sequence, expected struct FluxEvent"),
    (b"{", "EOF while parsing a value"),
])
def test_it_item02_parse_errors_are_400_with_serde_text(engine, raw, body, message):
    response = raw.post("/api/events", data=body)
    assert response.status_code == 400
    assert response.json()["error"].startswith(message)


@pytest.mark.parametrize("overrides,message", [
    ({"stream": ""}, "stream is required"),
    ({"source": ""}, "source is required"),
    ({"payload": None}, "payload is required"),
    ({"stream": "Sensors"}, "invalid stream format 'Sensors': must be lowercase with optional dots"),
    ({"stream": "a..b"}, "invalid stream format 'a..b': must be lowercase with optional dots"),
    ({"stream": "a_b"}, "invalid stream format 'a_b': must be lowercase with optional dots"),
    ({"timestamp": 0}, "timestamp must be positive, got 0"),
    ({"timestamp": -1}, "timestamp must be positive, got -1"),
    ({"payload": [1]}, "payload must be a JSON object"),
    ({"payload": "x"}, "payload must be a JSON object"),
])
def test_it_item02_validation_messages(engine, raw, overrides, message):
    response = raw.post("/api/events", body=event(**overrides))
    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_it_item02_validation_comes_before_auth(auth_engine, raw):
    response = raw.post("/api/events", body=event(stream="BAD"))  # and no token
    assert response.status_code == 400


def test_it_item02_auth_comes_before_rate_limit(auth_engine, raw):
    _id, token = auth_engine.register_namespace("matt")
    auth_engine.register_namespace("other")
    auth_engine.set_config(rate_limit_per_namespace_per_minute=1)
    for _ in range(3):  # refused writes must not spend matt's single token
        assert raw.post("/api/events", body=event("matt/x"), token="wrong").status_code == 403
    assert raw.post("/api/events", body=event("matt/x"), token=token).status_code == 200


def test_it_item02_rate_limit_comes_before_publish(auth_engine, raw):
    _id, token = auth_engine.register_namespace("matt")
    auth_engine.set_config(rate_limit_per_namespace_per_minute=0)
    auth_engine.configure(fail_publish=True)
    assert raw.post("/api/events", body=event("matt/x"), token=token).status_code == 429


def test_it_item02_publish_failure_is_500(engine, raw):
    engine.configure(fail_publish=True)
    response = raw.post("/api/events", body=event(stream="sensors"))
    assert response.status_code == 500
    assert response.json() == {"error": "Failed to publish event to subject 'flux.events.sensors'"}


@pytest.mark.parametrize("supplied", [None, ""])
def test_it_item02_event_id_is_generated_uuid7(engine, raw, supplied):
    body = event() if supplied is None else event(eventId=supplied)
    first = uuid.UUID(raw.post("/api/events", body=body).json()["eventId"])
    second = uuid.UUID(raw.post("/api/events", body=body).json()["eventId"])
    assert first.version == 7 and first != second
    assert str(first) < str(second)  # time-ordered


def test_it_item02_supplied_event_id_is_kept_and_not_deduplicated(engine, raw):
    for _ in range(2):
        assert raw.post("/api/events", body=event(eventId="mine")).json()["eventId"] == "mine"
    assert len(raw.get("/api/events", params={"entity": "sensor-01"}).json()) == 2


def test_it_item02_no_content_type_needed_and_unknown_fields_dropped(engine, raw):
    body = json.dumps(event(extra="dropped", key="k")).encode()
    assert raw.post("/api/events", data=body, headers={"Content-Type": ""}).status_code == 200
    (stored,) = raw.get("/api/events", params={"entity": "sensor-01"}).json()
    assert "extra" not in stored and stored["key"] == "k" and "schema" not in stored


def test_it_item02_event_without_state_fields_is_accepted_but_derives_nothing(engine, raw):
    assert raw.post("/api/events", body=event(payload={"anything": 1})).status_code == 200
    assert raw.post("/api/events", body=event(payload={"entity_id": "a",
                                                       "properties": [1]})).status_code == 200
    assert raw.get("/api/state/entities").json() == []


# ---- 3. State semantics -------------------------------------------------------------------------


def test_it_item03_per_property_upsert_and_null_is_stored(engine, raw):
    raw.post("/api/events", body=event("a", {"x": 1, "y": {"deep": 1, "keep": 2}}))
    raw.post("/api/events", body=event("a", {"y": {"deep": 3}, "z": None}))
    assert raw.get("/api/state/entities/a").json()["properties"] == {
        "x": 1, "y": {"deep": 3}, "z": None}


def test_it_item03_empty_properties_create_nothing(engine, raw):
    raw.post("/api/events", body=event("a", {}))
    assert raw.get("/api/state/entities/a").status_code == 404


def test_it_item03_deleted_true_deletes_and_ignores_other_properties(engine, raw):
    raw.post("/api/events", body=event("a", {"x": 1}))
    raw.post("/api/events", body=event("a", {"__deleted__": True, "x": 2}))
    assert raw.get("/api/state/entities/a").status_code == 404


@pytest.mark.parametrize("value", [False, "true", 1])
def test_it_item03_deleted_not_exactly_true_is_a_property(engine, raw, value):
    raw.post("/api/events", body=event("a", {"__deleted__": value}))
    assert raw.get("/api/state/entities/a").json()["properties"] == {"__deleted__": value}


def test_it_item03_last_updated_is_server_time_plus_offset(engine, raw):
    raw.post("/api/events", body=event("a", timestamp=1))  # producer time is 1970
    stamp = raw.get("/api/state/entities/a").json()["lastUpdated"]
    assert RFC3339_PLUS.fullmatch(stamp)
    assert stamp[:4] == time.strftime("%Y", time.gmtime())


def test_it_item03_listing_order_is_shuffled(engine, raw):
    engine.seed({f"e{i:02d}": {"v": i} for i in range(40)})
    orders = {tuple(item["id"] for item in raw.get("/api/state/entities").json())
              for _ in range(5)}
    assert len(orders) > 1


def test_it_item03_listing_filters_namespace_prefix_and(engine, raw):
    engine.seed({"matt/a": {"v": 1}, "matt/b": {"v": 1}, "github/repo/x/y": {"v": 1},
                 "plain": {"v": 1}, "/odd": {"v": 1}, "mattx/c": {"v": 1}})

    def ids(**params):
        return sorted(item["id"] for item in raw.get("/api/state/entities",
                                                     params=params).json())
    assert ids(namespace="matt") == ["matt/a", "matt/b"]
    assert ids(namespace="github") == ["github/repo/x/y"]
    assert ids(prefix="matt") == ["matt/a", "matt/b", "mattx/c"]
    assert ids(namespace="matt", prefix="matt/b") == ["matt/b"]
    assert len(ids(prefix="")) == 6
    assert ids(namespace="") == ["/odd"]
    assert len(ids(unknown="ignored")) == 6


# ---- 4. Optional eventual consistency -----------------------------------------------------------


def test_it_item04_apply_delay_makes_reads_lag_writes(engine, raw):
    engine.configure(apply_delay=0.2)
    assert raw.post("/api/events", body=event("a")).status_code == 200
    assert raw.get("/api/state/entities/a").status_code == 404
    wait_for(lambda: raw.get("/api/state/entities/a").status_code == 200)


# ---- 5. Id encoding -----------------------------------------------------------------------------


def test_it_item05_encoded_slash_reaches_the_entity(engine, raw):
    raw.post("/api/events", body=event("matt/sensor-01"))
    assert raw.get("/api/state/entities/matt%2Fsensor-01").json()["id"] == "matt/sensor-01"


def test_it_item05_unencoded_slash_is_empty_404(engine, raw):
    raw.post("/api/events", body=event("matt/sensor-01"))
    response = raw.get("/api/state/entities/matt/sensor-01")
    assert (response.status_code, response.content) == (404, b"")


def test_it_item05_unknown_id_is_json_404(engine, raw):
    response = raw.get("/api/state/entities/nope")
    assert response.status_code == 404
    assert response.json() == {"error": "Entity not found"}


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_it_item05_literal_delete_id_hits_the_static_route(engine, raw, method):
    response = raw.request(method, "/api/state/entities/delete")
    assert (response.status_code, response.content) == (405, b"")
