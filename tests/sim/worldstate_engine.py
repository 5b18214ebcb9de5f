"""In-memory core of the world-state double: entity map, event log, namespaces, config, buckets.

It is plain Python and runs only on the server's event-loop thread, so it needs no locks.
Entities keep a cached JSON rendering, because a 10,000-entity listing must answer fast (§4.4).
"""
from __future__ import annotations

import json
import random
import secrets
import string
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.sim import worldstate_rules as rules


@dataclass
class EntityRecord:
    id: str
    properties: dict[str, Any] = field(default_factory=dict)
    last_updated_ns: int = 0
    cached_json: str | None = None

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "properties": self.properties,
            "lastUpdated": rules.rfc3339(self.last_updated_ns),
        }

    def as_json(self) -> str:
        if self.cached_json is None:
            self.cached_json = json.dumps(self.as_dict(), ensure_ascii=False,
                                          separators=(",", ":"))
        return self.cached_json


@dataclass
class Namespace:
    namespace_id: str
    name: str
    token: str
    created_ns: int


class PublishError(RuntimeError):
    """The double's stand-in for a failed JetStream publish/ack."""


class TokenBucket:
    """One namespace's bucket: starts full, refills at limit/60 per second (§8)."""

    def __init__(self, capacity: int):
        self.tokens = float(capacity)
        self.last = time.monotonic()

    def take(self, capacity: int) -> bool:
        now = time.monotonic()
        self.tokens = min(self.tokens + (now - self.last) * capacity / 60.0, float(capacity))
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Metrics:
    """The counters behind `metrics_update` (§5): the 5 s window is trimmed only on new events."""

    def __init__(self):
        self.total_events = 0
        self.window: deque[int] = deque()
        self.publishers: dict[str, int] = {}
        self.connections = 0

    def record(self, source: str) -> None:
        now = rules.now_ms()
        self.total_events += 1
        self.window.append(now)
        while self.window and now - self.window[0] > 5000:
            self.window.popleft()
        self.publishers[source] = now

    def snapshot(self, entity_count: int, publisher_window_s: int = 10) -> dict:
        threshold = rules.now_ms() - publisher_window_s * 1000
        return {
            "type": "metrics_update",
            "timestamp": rules.rfc3339(rules.now_ns(), zulu=True),
            "entities": {"total": entity_count},
            "events": {"total": self.total_events, "rate_per_second": len(self.window) / 5.0},
            "websocket": {"connections": self.connections},
            "publishers": {"active": sum(1 for seen in self.publishers.values()
                                         if seen > threshold)},
        }


STORED_FIELDS = ("eventId", "stream", "source", "timestamp", "key", "schema", "payload")
Listener = Callable[[str, dict], None]  # (entity_id or "", message) -> None


@dataclass
class Options:
    """Switches a test can flip; defaults match an engine started with no env vars."""

    auth: bool = False
    admin_token: str | None = None
    credentials: bool = False  # FLUX_ENCRYPTION_KEY set: a credential store exists
    retry_after: int = 60  # the engine always says 60; tests shorten it
    apply_delay: float = 0.0  # seconds before an accepted event reaches the entity map
    shuffle: bool = True  # listing order is arbitrary in the engine; shuffle to prove it
    max_batch_delete: int = 10000
    metrics_interval: float = 2.0
    fail_publish: bool = False  # simulate JetStream being unreachable
    # A hostile engine (tests/sim/worldstate_faults.py): which fault, on which paths.
    fault: str | None = None
    fault_path: str = r"/api/.*"
    fault_location: str = ""
    fault_body: str = ""
    fault_size: int = 300 * 1024 * 1024
    fault_interval: float = 2.0


class Engine:
    def __init__(self, options: Options | None = None,
                 schedule: Callable[[float, Callable[[], None]], Any] | None = None):
        self.options = options or Options()
        self.schedule = schedule
        self.listeners: list[Listener] = []
        self.hub: Any = None  # the WebSocket hub, once an app is built around this engine
        self.requests_seen = 0  # REST requests answered (tests/sim/worldstate_control.py)
        self.reset()

    def reset(self) -> None:
        self.entities: dict[str, EntityRecord] = {}
        self.history: dict[str, list[tuple[int, dict]]] = {}
        self.namespaces: dict[str, Namespace] = {}
        self.config = dict(rules.DEFAULT_CONFIG)
        self.buckets: dict[str, TokenBucket] = {}
        self.credentials: set[tuple[str, str]] = set()
        self.metrics = Metrics()

    # ---- write path -------------------------------------------------------------------------

    def publish(self, event: dict) -> None:
        """Store an accepted event in the log, then derive state (now or after apply_delay)."""
        if self.options.fail_publish:
            raise PublishError(
                f"Failed to publish event to subject 'flux.events.{event['stream']}'")
        # The stored form keeps only the envelope fields, omitting absent key/schema (§7.1).
        stored = {name: event[name] for name in STORED_FIELDS if event.get(name) is not None}
        entity_id = event["payload"].get("entity_id")
        if isinstance(entity_id, str):
            self.history.setdefault(entity_id, []).append((rules.now_ns(), stored))
        if self.options.apply_delay > 0 and self.schedule is not None:
            self.schedule(self.options.apply_delay, lambda: self.apply(stored))
        else:
            self.apply(stored)

    def apply(self, event: dict) -> None:
        """StateEngine::process_event (§7.2): tombstone, or per-property upsert."""
        self.metrics.record(event["source"])
        payload = event["payload"]
        entity_id = payload.get("entity_id")
        properties = payload.get("properties")
        if not isinstance(entity_id, str) or not isinstance(properties, dict):
            return
        now = rules.now_ns()
        if properties.get("__deleted__") is True:
            if self.entities.pop(entity_id, None) is not None:
                self._emit(entity_id, {"type": "entity_deleted", "entity_id": entity_id,
                                       "timestamp": rules.rfc3339(now, zulu=True)})
            return
        if not properties:
            return
        record = self.entities.get(entity_id)
        if record is None:
            record = self.entities[entity_id] = EntityRecord(entity_id)
        record.properties.update(properties)
        record.last_updated_ns = now
        record.cached_json = None
        if self.listeners:
            stamp = rules.rfc3339(now, zulu=True)
            for name, value in properties.items():
                self._emit(entity_id, {"type": "state_update", "entity_id": entity_id,
                                       "property": name, "value": value, "timestamp": stamp})

    def tombstone(self, entity_id: str) -> str:
        """Publish the deletion event of §4.6 and return its eventId."""
        now = rules.now_ms()
        event = {
            "eventId": rules.uuid7(), "stream": rules.TOMBSTONE_STREAM, "source": "api",
            "timestamp": now, "key": entity_id, "schema": None,
            "payload": {"entity_id": entity_id,
                        "properties": {"__deleted__": True, "__deleted_at__": now}},
        }
        self.publish(event)
        return event["eventId"]

    def take_token(self, key: str) -> bool:
        capacity = self.config["rate_limit_per_namespace_per_minute"]
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = TokenBucket(capacity)
        return bucket.take(capacity)

    def _emit(self, entity_id: str, message: dict) -> None:
        for listener in self.listeners:
            listener(entity_id, message)

    # ---- reads ------------------------------------------------------------------------------

    def list_json(self, *, namespace: str | None, prefix: str | None) -> str:
        """The listing body, built from cached per-entity JSON (§4.4)."""
        records = self.entities.values()
        if namespace is not None or prefix is not None:
            ns_prefix = None if namespace is None else namespace + "/"
            records = [record for record in records
                       if (ns_prefix is None or record.id.startswith(ns_prefix))
                       and (prefix is None or record.id.startswith(prefix))]
        parts = [record.as_json() for record in records]
        if self.options.shuffle:
            random.shuffle(parts)
        return "[" + ",".join(parts) + "]"

    def matching_ids(self, *, namespace: str | None = None, prefix: str | None = None) -> list[str]:
        if namespace is not None:
            prefix_text = namespace + "/"
        else:
            prefix_text = prefix or ""
        return [entity_id for entity_id in self.entities if entity_id.startswith(prefix_text)]

    def events_for(self, entity_id: str, since_s: int, limit: int) -> list[dict]:
        """Oldest `limit` matches stored at or after `since_s`, returned newest first (§4.3)."""
        start_ns = since_s * 1_000_000_000
        collected = []
        for stored_ns, event in self.history.get(entity_id, ()):
            if stored_ns >= start_ns:
                collected.append(event)
                if len(collected) >= limit:
                    break
        collected.reverse()
        return collected

    # ---- namespaces -------------------------------------------------------------------------

    def register_namespace(self, name: str) -> Namespace:
        alphabet = string.ascii_lowercase + string.digits
        namespace = Namespace(
            namespace_id="ns_" + "".join(secrets.choice(alphabet) for _ in range(8)),
            name=name, token=str(uuid.uuid4()), created_ns=rules.now_ns())
        self.namespaces[name] = namespace
        return namespace

    def token_owns(self, token: str, namespace: str) -> bool | None:
        """None when the namespace is unknown, else whether the token is its token."""
        record = self.namespaces.get(namespace)
        if record is None:
            return None
        return record.token == token
