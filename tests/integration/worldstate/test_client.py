"""WorldStateClient against the double in internal mode: every method over real HTTP."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from apps.worldstate.client import (
    BadRequest,
    BatchResult,
    Entity,
    NotFound,
    PayloadTooLarge,
    WorldStateError,
    encode_id,
    parse_timestamp,
)
from tests.integration.worldstate.conftest import wait_for
from tests.sim.worldstate import loopback_client


def test_it_health_true_when_engine_answers(ws_client):
    assert ws_client.health() is True


def test_it_health_false_when_nothing_listens():
    assert loopback_client("http://127.0.0.1:9", timeout=1).health() is False


def test_it_publish_returns_event_id_and_sets_state(ws_client):
    event_id = ws_client.publish("sensors.temp", "panel", "sensor-01", {"temp": 21.5})
    assert len(event_id) == 36
    entity = ws_client.entity("sensor-01")
    assert entity == Entity("sensor-01", {"temp": 21.5}, entity.last_updated)
    assert entity.last_updated.tzinfo is not None


def test_it_publish_fills_timestamp_in_epoch_ms(ws_client):
    before = time.time_ns() // 1_000_000
    ws_client.publish("s", "panel", "a", {"x": 1})
    after = time.time_ns() // 1_000_000
    (stored,) = ws_client.history("a")
    assert before <= stored["timestamp"] <= after


def test_it_publish_passes_timestamp_key_and_schema(ws_client):
    ws_client.publish("s", "panel", "a", {"x": 1}, timestamp_ms=42, key="k", schema="v1")
    (stored,) = ws_client.history("a")
    assert (stored["timestamp"], stored["key"], stored["schema"]) == (42, "k", "v1")


def test_it_publish_merges_properties(ws_client):
    ws_client.publish("s", "panel", "a", {"x": 1, "y": 2})
    ws_client.publish("s", "panel", "a", {"y": 3})
    assert ws_client.entity("a").properties == {"x": 1, "y": 3}


def test_it_publish_refuses_non_object_properties_locally(ws_client):
    with pytest.raises(BadRequest, match="properties must be a JSON object"):
        ws_client.publish("s", "panel", "a", [1, 2])


def test_it_publish_refuses_oversized_event_before_sending(ws_client, engine):
    with pytest.raises(PayloadTooLarge) as caught:
        ws_client.publish("s", "panel", "a", {"blob": "x" * 1_048_576})
    assert caught.value.status == 413
    assert "Nothing was sent" in caught.value.message
    assert engine.call(lambda core: core.metrics.total_events) == 0


def test_it_publish_engine_validation_error_is_bad_request(ws_client):
    with pytest.raises(BadRequest) as caught:
        ws_client.publish("Bad-Stream", "panel", "a", {"x": 1})
    assert caught.value.message == (
        "invalid stream format 'Bad-Stream': must be lowercase with optional dots")


def test_it_publish_batch_reports_each_item(ws_client):
    result = ws_client.publish_batch([
        {"stream": "s", "source": "p", "entity_id": "a", "properties": {"x": 1}},
        {"stream": "BAD", "source": "p", "entity_id": "b", "properties": {"x": 1}},
        {"stream": "s", "source": "p", "timestamp": 5, "payload": {"entity_id": "c",
                                                                   "properties": {"z": 0}}},
    ])
    assert isinstance(result, BatchResult)
    assert (result.successful, result.failed) == (2, 1)
    first, second, third = result.results
    assert first.ok and len(first.event_id) == 36
    assert not second.ok and second.event_id is None
    assert second.error.startswith("validation failed: invalid stream format 'BAD'")
    assert third.ok
    assert [entity.id for entity in ws_client.entities()] == ["a", "c"]


def test_it_publish_batch_refuses_empty_and_incomplete_items(ws_client):
    with pytest.raises(BadRequest, match="at least one event"):
        ws_client.publish_batch([])
    with pytest.raises(BadRequest, match="batch item 0 lacks source"):
        ws_client.publish_batch([{"stream": "s", "entity_id": "a", "properties": {}}])


def test_it_publish_batch_refuses_over_2_mib_before_sending(ws_client):
    item = {"stream": "s", "source": "p", "entity_id": "a", "properties": {"b": "x" * 500_000}}
    with pytest.raises(PayloadTooLarge):
        ws_client.publish_batch([item] * 5)


def test_it_entity_missing_is_none(ws_client):
    assert ws_client.entity("nope") is None


@pytest.mark.parametrize("entity_id", [
    "matt/sensor-01", "github/repo/owner/name", "a b?c#d%e&f", "naïve/ü", ".", "..", "x/../y",
    "delete", "",
])
def test_it_entity_ids_round_trip_through_encoding(ws_client, entity_id):
    ws_client.publish("s", "panel", entity_id, {"v": 1})
    assert ws_client.entity(entity_id).id == entity_id
    ws_client.delete(entity_id)
    assert ws_client.entity(entity_id) is None


def test_it_encode_id_escapes_slash_and_dot_segments():
    assert encode_id("matt/sensor-01") == "matt%2Fsensor-01"
    assert encode_id("..") == "%2E%2E"
    assert encode_id("a.b") == "a.b"


def test_it_entity_empty_404_is_not_a_missing_entity(engine):
    wrong_base = loopback_client(engine.url + "/nothing-here")
    with pytest.raises(NotFound) as caught:
        wrong_base.entity("a")
    assert caught.value.status == 404


def test_it_entities_sorted_and_filtered(ws_client):
    for entity_id in ["matt/b", "matt/a", "alice/x", "plain", "matt-x/y"]:
        ws_client.publish("s", "p", entity_id, {"v": 1})
    assert [e.id for e in ws_client.entities()] == ["alice/x", "matt-x/y", "matt/a", "matt/b",
                                                 "plain"]
    assert [e.id for e in ws_client.entities(namespace="matt")] == ["matt/a", "matt/b"]
    assert [e.id for e in ws_client.entities(prefix="matt")] == ["matt-x/y", "matt/a", "matt/b"]
    assert [e.id for e in ws_client.entities(prefix="matt/a", namespace="matt")] == ["matt/a"]


def test_it_delete_returns_tombstone_event_id(ws_client):
    ws_client.publish("s", "p", "a", {"v": 1})
    event_id = ws_client.delete("a")
    assert ws_client.entity("a") is None
    newest = ws_client.history("a")[0]
    assert newest["eventId"] == event_id
    assert newest["stream"] == "flux.events.deletions"


def test_it_delete_of_unknown_entity_still_answers(ws_client):
    assert len(ws_client.delete("never-existed")) == 36


def test_it_delete_many_by_each_filter(ws_client):
    for entity_id in ["ns1/a", "ns1/b", "ns2/a", "tmp-1", "tmp-2", "keep"]:
        ws_client.publish("s", "p", entity_id, {"v": 1})
    assert ws_client.delete_many(namespace="ns1") == 2
    assert ws_client.delete_many(prefix="tmp-") == 2
    assert ws_client.delete_many(entity_ids=["ns2/a", "ghost"]) == 2
    assert [e.id for e in ws_client.entities()] == ["keep"]


@pytest.mark.parametrize("filters", [{}, {"namespace": "a", "prefix": "b"},
                                     {"prefix": "a", "entity_ids": []}])
def test_it_delete_many_needs_exactly_one_filter(ws_client, filters):
    with pytest.raises(BadRequest, match="exactly one"):
        ws_client.delete_many(**filters)


def test_it_delete_many_refuses_empty_prefix_and_namespace(ws_client):
    ws_client.publish("s", "p", "a", {"v": 1})
    with pytest.raises(BadRequest, match="empty prefix"):
        ws_client.delete_many(prefix="")
    with pytest.raises(BadRequest, match="empty namespace"):
        ws_client.delete_many(namespace="")
    assert ws_client.entity("a") is not None


def test_it_delete_many_refuses_more_than_cap_locally(ws_client):
    with pytest.raises(BadRequest, match="Batch too large: 10001 entities requested"):
        ws_client.delete_many(entity_ids=[f"e{i}" for i in range(10_001)])


def test_it_delete_many_publish_failure_is_an_error(ws_client, engine):
    ws_client.publish("s", "p", "a", {"v": 1})
    engine.configure(fail_publish=True)
    with pytest.raises(WorldStateError) as caught:
        ws_client.delete_many(entity_ids=["a"])
    assert caught.value.status == 500
    assert "failed 1" in caught.value.message


def test_it_history_newest_first_with_since_and_limit(ws_client):
    for value in range(5):
        ws_client.publish("s", "p", "a", {"v": value})
    assert [e["payload"]["properties"]["v"] for e in ws_client.history("a")] == [4, 3, 2, 1, 0]
    assert [e["payload"]["properties"]["v"] for e in ws_client.history("a", limit=2)] == [1, 0]
    future = datetime.now(UTC) + timedelta(hours=1)
    assert ws_client.history("a", since=future) == []
    naive_past = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
    assert len(ws_client.history("a", since=naive_past)) == 5
    assert len(ws_client.history("a", since="2000-01-01T00:00:00+00:00")) == 5


def test_it_history_bad_since_is_bad_request(ws_client):
    with pytest.raises(BadRequest) as caught:
        ws_client.history("a", since="yesterday")
    assert caught.value.message == "invalid `since` timestamp (expected ISO 8601)"


def test_it_connectors_lists_the_fixed_four(ws_client):
    assert [c["name"] for c in ws_client.connectors()] == ["github", "gmail", "linkedin",
                                                        "calendar"]


def test_it_admin_config_read_and_partial_update(ws_client):
    assert ws_client.admin_config()["rate_limit_per_namespace_per_minute"] == 10000
    updated = ws_client.update_admin_config(body_size_limit_single_bytes=2048)
    assert updated["body_size_limit_single_bytes"] == 2048
    assert updated["rate_limit_per_namespace_per_minute"] == 10000
    assert ws_client.admin_config() == updated


def test_it_update_admin_config_refuses_unknown_fields(ws_client):
    with pytest.raises(TypeError, match="max_batch_delete"):
        ws_client.update_admin_config(max_batch_delete=5)


def test_it_engine_413_after_lowered_limit_is_payload_too_large(ws_client):
    ws_client.update_admin_config(body_size_limit_single_bytes=50)
    with pytest.raises(PayloadTooLarge) as caught:
        ws_client.publish("s", "p", "a", {"text": "x" * 100})
    assert caught.value.message == "payload too large"


def test_it_unexpected_status_is_base_error_with_message(ws_client, engine):
    engine.configure(fail_publish=True)
    with pytest.raises(WorldStateError) as caught:
        ws_client.publish("s", "p", "a", {"v": 1})
    assert type(caught.value) is WorldStateError
    assert caught.value.status == 500
    assert caught.value.message == "Failed to publish event to subject 'flux.events.s'"


def test_it_register_namespace_unavailable_in_internal_mode(ws_client):
    with pytest.raises(NotFound) as caught:
        ws_client.register_namespace("team-a")
    assert caught.value.message == "Namespace registration not available (auth disabled)"


def test_it_subscribe_yields_updates_and_deletions(ws_client, engine):
    with ws_client.subscribe() as live:
        wait_for(lambda: engine.ws_subscriptions() == [set()])
        ws_client.publish("s", "p", "a", {"x": 1, "y": 2})
        ws_client.delete("a")
        seen = []
        for message in live:
            if message["type"] != "metrics_update":
                seen.append(message)
            if len(seen) == 3:
                break
    assert [(m["type"], m.get("property")) for m in seen] == [
        ("state_update", "x"), ("state_update", "y"), ("entity_deleted", None)]
    assert seen[0]["value"] == 1 and seen[0]["timestamp"].endswith("Z")


def test_it_subscribe_to_ids_filters_state_updates(ws_client, engine):
    with ws_client.subscribe(["b"]) as live:
        wait_for(lambda: engine.ws_subscriptions() == [{"b"}])
        ws_client.publish("s", "p", "a", {"x": 1})
        ws_client.publish("s", "p", "b", {"x": 2})
        message = next(m for m in live if m["type"] == "state_update")
    assert message["entity_id"] == "b"


def test_it_subscribe_to_unreachable_engine_is_unavailable():
    from apps.worldstate.client import WorldStateUnavailable
    with pytest.raises(WorldStateUnavailable):
        loopback_client("http://127.0.0.1:9", timeout=1).subscribe()


def test_it_subscription_silence_is_unavailable(engine):
    engine.configure(metrics_interval=30)
    ws_client = loopback_client(engine.url, timeout=0.3)
    from apps.worldstate.client import WorldStateUnavailable
    with ws_client.subscribe() as live, pytest.raises(WorldStateUnavailable, match="No live update"):
        next(live)


def test_it_parse_timestamp_accepts_engine_forms():
    assert parse_timestamp("2026-02-25T20:04:27.638770186+00:00") == datetime(
        2026, 2, 25, 20, 4, 27, 638770, tzinfo=UTC)
    assert parse_timestamp("2026-02-25T20:04:27Z").tzinfo is not None
    assert parse_timestamp("garbage") is None


def test_it_namespace_lookup_unavailable_in_internal_mode(ws_client):
    with pytest.raises(NotFound, match="not available"):
        ws_client.namespace("team-a")
