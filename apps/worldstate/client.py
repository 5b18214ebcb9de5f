"""Client for the Flux world-state engine (EckmanTechLLC/flux), in plain Python.

Facts come from shared/reference/worldstate-api.md. The quirks handled here, so that views
don't have to:

- An id goes into a single path segment, so it is percent-encoded whole (`/` becomes `%2F`).
  The ids "" and "delete" can't be reached through `/api/state/entities/:id` at all; they are
  read through the listing and deleted with a tombstone event.
- The event `timestamp` is required, in epoch milliseconds; it is filled in when not given.
- Bodies over the engine's limits are refused here, before sending: 1 MiB for one event, and
  2 MiB for a batch (axum's default cap wins over the configured 10 MB).
- A 429 carries `Retry-After`; a short wait is honoured a bounded number of times, then
  RateLimited is raised. A 429 means nothing was published, so the retry can't duplicate.
- Errors are `{"error": "..."}` from handlers but plain text (or empty) from the framework.
- Connection failures and timeouts become WorldStateUnavailable, for a clear panel message.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from operator import itemgetter
from typing import Any
from urllib.parse import quote

import requests

SINGLE_EVENT_LIMIT = 1_048_576
BATCH_BODY_LIMIT = 2_097_152
MAX_BATCH_DELETE = 10_000
TOMBSTONE_STREAM = "flux.events.deletions"
CONFIG_FIELDS = frozenset({
    "rate_limit_enabled",
    "rate_limit_per_namespace_per_minute",
    "body_size_limit_single_bytes",
    "body_size_limit_batch_bytes",
})
# `/api/state/entities/` has no segment to match, and `.../delete` is the batch-delete route.
_UNROUTABLE_IDS = frozenset({"", "delete"})


# ---- errors -------------------------------------------------------------------------------------


class WorldStateError(Exception):
    """The engine refused a request (`status` is its HTTP status) or could not be used."""

    def __init__(self, status: int | None, message: str):
        super().__init__(message)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        return self.message if self.status is None else f"{self.message} (HTTP {self.status})"


class BadRequest(WorldStateError):
    pass


class Unauthorized(WorldStateError):
    pass


class Forbidden(WorldStateError):
    pass


class NotFound(WorldStateError):
    pass


class Conflict(WorldStateError):
    pass


class PayloadTooLarge(WorldStateError):
    pass


class RateLimited(WorldStateError):
    def __init__(self, status: int | None, message: str, *, retry_after: float | None = None):
        super().__init__(status, message)
        self.retry_after = retry_after


class WorldStateUnavailable(WorldStateError):
    """The engine could not be reached, or did not answer in time."""

    def __init__(self, status: None, message: str):
        super().__init__(None, message)


_ERRORS_BY_STATUS: dict[int, type[WorldStateError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound,
    409: Conflict, 413: PayloadTooLarge, 429: RateLimited,
}


# ---- results ------------------------------------------------------------------------------------


def parse_timestamp(text: str | None) -> datetime | None:
    """Engine time strings: `+00:00` (REST) or `Z` (WS), with 0 to 9 fraction digits."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    head, dot, rest = text.partition(".")
    if dot:  # older parsers take at most 6 fraction digits
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:min(digits, 6)]}{rest[digits:]}"
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(slots=True)
class Entity:
    id: str
    properties: dict[str, Any]
    last_updated: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Entity:
        # Listings hold 10,000s of these: keep the decoded dict as is, no copies.
        return cls(data["id"], data.get("properties") or {},
                   parse_timestamp(data.get("lastUpdated")))


@dataclass(frozen=True)
class BatchItem:
    event_id: str | None
    stream: str | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class BatchResult:
    successful: int
    failed: int
    results: list[BatchItem]


# ---- client -------------------------------------------------------------------------------------


def encode_id(entity_id: str) -> str:
    """One path segment; dot segments are escaped too, or HTTP clients normalise them away."""
    encoded = quote(entity_id, safe="")
    return encoded.replace(".", "%2E") if encoded in (".", "..") else encoded


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class WorldStateClient:
    RATE_LIMIT_RETRIES = 2
    MAX_RETRY_WAIT = 5.0  # seconds; a longer Retry-After (the engine says 60) fails at once

    def __init__(self, base_url: str, *, token: str | None = None,
                 admin_token: str | None = None, timeout: float = 10.0,
                 session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.admin_token = admin_token
        self.timeout = timeout
        self.session = session or requests.Session()

    # ---- reads ----------------------------------------------------------------------------------

    def health(self) -> bool:
        """True when the engine answers. It has no health route; the config read is the cheapest."""
        try:
            return isinstance(self._get_json("/api/admin/config"), dict)
        except WorldStateError:
            return False

    def entity(self, entity_id: str) -> Entity | None:
        if entity_id in _UNROUTABLE_IDS:
            return next((item for item in self.entities(prefix=entity_id)
                         if item.id == entity_id), None)
        try:
            data = self._get_json(f"/api/state/entities/{encode_id(entity_id)}")
        except NotFound as error:
            if error.message == "Entity not found":
                return None
            raise  # an empty-body 404 means a wrong route, not a missing entity
        return Entity.from_json(data)

    def entities(self, *, prefix: str | None = None,
                 namespace: str | None = None) -> list[Entity]:
        """All matching entities, sorted by id (the engine answers in arbitrary order)."""
        return [Entity.from_json(item) for item in self.entity_rows(prefix=prefix, namespace=namespace)]

    def entity_rows(self, *, prefix: str | None = None,
                    namespace: str | None = None) -> list[dict]:
        """Like entities(), as the engine's own dicts sorted by id: a page that shows 50 of
        10,000 entities sorts and counts these and turns only its rows into Entity objects."""
        params = {name: value for name, value in
                  (("prefix", prefix), ("namespace", namespace)) if value is not None}
        rows = self._get_json("/api/state/entities", params=params)
        rows.sort(key=itemgetter("id"))
        return rows

    def history(self, entity_id: str, *, since: datetime | str | None = None,
                limit: int = 100) -> list[dict]:
        """Stored events, newest first. Past `limit`, the engine keeps the oldest after `since`,
        so pass a recent `since` to see the latest ones."""
        params: dict[str, Any] = {"entity": entity_id, "limit": limit}
        if isinstance(since, datetime):
            aware = since if since.tzinfo else since.replace(tzinfo=UTC)
            params["since"] = aware.isoformat()
        elif since is not None:
            params["since"] = since
        return self._get_json("/api/events", params=params)

    def connectors(self) -> list[dict]:
        return self._get_json("/api/connectors", auth=self.token)["connectors"]

    def admin_config(self) -> dict:
        return self._get_json("/api/admin/config")

    def namespace(self, name: str) -> dict | None:
        """Namespace info (never its token), or None when the engine doesn't know it."""
        try:
            return self._get_json(f"/api/namespaces/{quote(name, safe='')}")
        except NotFound as error:
            if error.message == "Namespace not found":
                return None
            raise

    # ---- writes ---------------------------------------------------------------------------------

    def publish(self, stream: str, source: str, entity_id: str, properties: Mapping[str, Any],
                *, timestamp_ms: int | None = None, key: str | None = None,
                schema: str | None = None) -> str:
        """Publish one state event and return its eventId."""
        event = _envelope(stream, source, entity_id, properties, timestamp_ms, key, schema)
        body = _encode(event, SINGLE_EVENT_LIMIT, "event")
        return self._send("POST", "/api/events", body, auth=self.token).json()["eventId"]

    def publish_batch(self, events: list[Mapping[str, Any]]) -> BatchResult:
        """Publish many events in order; each item is judged on its own by the engine.

        An item is either publish()'s keywords (stream, source, entity_id, properties and
        optionally timestamp_ms, key, schema) or a full envelope with a `payload`.
        """
        if not events:
            raise BadRequest(400, "Batch request must contain at least one event")
        envelopes = [_batch_envelope(index, item) for index, item in enumerate(events)]
        body = _encode({"events": envelopes}, BATCH_BODY_LIMIT, "batch")
        data = self._send("POST", "/api/events/batch", body, auth=self.token).json()
        items = [BatchItem(item.get("eventId"), item.get("stream"), item.get("error"))
                 for item in data["results"]]
        return BatchResult(data["successful"], data["failed"], items)

    def delete(self, entity_id: str) -> str:
        """Delete an entity (a tombstone event; the engine says 200 even if it didn't exist)."""
        if entity_id in _UNROUTABLE_IDS:
            tombstone = {"stream": TOMBSTONE_STREAM, "source": "api", "timestamp": now_ms(),
                         "key": entity_id,
                         "payload": {"entity_id": entity_id,
                                     "properties": {"__deleted__": True,
                                                    "__deleted_at__": now_ms()}}}
            body = _encode(tombstone, SINGLE_EVENT_LIMIT, "event")
            return self._send("POST", "/api/events", body, auth=self.token).json()["eventId"]
        response = self._send("DELETE", f"/api/state/entities/{encode_id(entity_id)}",
                              auth=self.token)
        return response.json()["eventId"]

    def delete_many(self, *, namespace: str | None = None, prefix: str | None = None,
                    entity_ids: Iterable[str] | None = None) -> int:
        """Delete by exactly one filter; returns how many tombstones were published.

        An empty prefix (or namespace) is refused: the engine would read `{"prefix": ""}` as
        "delete everything".
        """
        given = [(name, value) for name, value in
                 (("namespace", namespace), ("prefix", prefix), ("entity_ids", entity_ids))
                 if value is not None]
        if len(given) != 1:
            raise BadRequest(400, "give exactly one of namespace, prefix or entity_ids")
        name, value = given[0]
        if name == "entity_ids":
            value = list(value)
            if len(value) > MAX_BATCH_DELETE:
                raise BadRequest(400, f"Batch too large: {len(value)} entities requested, "
                                      f"max is {MAX_BATCH_DELETE}")
        elif value == "":
            raise BadRequest(400, f"an empty {name} would match every entity; refused")
        body = _encode({name: value}, BATCH_BODY_LIMIT, "delete filter")
        data = self._send("POST", "/api/state/entities/delete", body, auth=self.token).json()
        if data.get("failed"):
            raise WorldStateError(500, f"deleted {data['deleted']}, failed {data['failed']}: "
                                       + "; ".join(data.get("errors", [])[:3]))
        return data["deleted"]

    def update_admin_config(self, **fields: Any) -> dict:
        """Partial update of the runtime config; takes effect at once, lost on engine restart."""
        unknown = set(fields) - CONFIG_FIELDS
        if unknown:
            raise TypeError(f"unknown runtime config field(s): {', '.join(sorted(unknown))}")
        body = _encode(fields, SINGLE_EVENT_LIMIT, "config")
        return self._send("PUT", "/api/admin/config", body, auth=self.admin_token).json()

    def register_namespace(self, name: str) -> tuple[str, str]:
        """Register a namespace; returns (namespaceId, token). The token is shown only once."""
        body = _encode({"name": name}, SINGLE_EVENT_LIMIT, "namespace")
        data = self._send("POST", "/api/namespaces", body, auth=self.admin_token).json()
        return data["namespaceId"], data["token"]

    def delete_namespace(self, name: str) -> None:
        """Unregister a namespace; its entities stay."""
        self._send("DELETE", f"/api/namespaces/{quote(name, safe='')}", auth=self.admin_token)

    # ---- live updates ---------------------------------------------------------------------------

    def subscribe(self, entity_ids: Iterable[str] | None = None) -> Subscription:
        """Open `/api/ws`. No ids: every update. Ids: exact matches only (no prefixes).

        Deletions and metrics arrive regardless of the ids.
        """
        scheme, _, rest = self.base_url.partition("://")
        ws_scheme = "wss" if scheme == "https" else "ws"
        return Subscription(f"{ws_scheme}://{rest}/api/ws", entity_ids, self.timeout)

    # ---- transport ------------------------------------------------------------------------------

    def _get_json(self, path: str, *, params: Mapping[str, Any] | None = None,
                  auth: str | None = None) -> Any:
        return self._send("GET", path, params=params, auth=auth).json()

    def _send(self, method: str, path: str, body: bytes | None = None, *,
              params: Mapping[str, Any] | None = None,
              auth: str | None = None) -> _Response:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if auth:
            headers["Authorization"] = f"Bearer {auth}"
        url = self.base_url + path
        retries = 0
        while True:
            response = self._attempt(method, url, params, body, headers)
            if response.status_code == 429 and retries < self.RATE_LIMIT_RETRIES:
                wait = _retry_after(response)
                if wait is not None and wait <= self.MAX_RETRY_WAIT:
                    time.sleep(wait)
                    retries += 1
                    continue
            if response.status_code >= 400:
                raise _error_from(response)
            return _Response(response)

    def _attempt(self, method, url, params, body, headers) -> requests.Response:
        try:
            return self.session.request(method, url, params=params, data=body,
                                        headers=headers, timeout=self.timeout)
        except requests.Timeout as error:
            raise WorldStateUnavailable(None, f"The world-state engine at {self.base_url} did "
                                              f"not answer within {self.timeout:g} s.") from error
        except requests.RequestException as error:
            raise WorldStateUnavailable(None, f"The world-state engine at {self.base_url} "
                                              f"cannot be reached ({type(error).__name__}).") \
                from error


class _Response:
    """A 2xx answer whose JSON is read with a clear error if it isn't JSON."""

    def __init__(self, response: requests.Response):
        self.response = response

    def json(self) -> Any:
        try:
            return self.response.json()
        except ValueError:
            raise WorldStateError(self.response.status_code,
                                  "The world-state engine answered with something other than "
                                  "JSON.") from None


def _error_from(response: requests.Response) -> WorldStateError:
    message = None
    try:
        data = response.json()
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            message = data["error"]
    except ValueError:
        pass
    if message is None:  # a framework rejection: plain text, or an empty 404/405
        message = response.text.strip() or response.reason or f"HTTP {response.status_code}"
    status = response.status_code
    kind = _ERRORS_BY_STATUS.get(status, WorldStateError)
    if kind is RateLimited:
        return RateLimited(status, message, retry_after=_retry_after(response))
    return kind(status, message)


def _retry_after(response: requests.Response) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(),
                   0.0)
    except (TypeError, ValueError):
        return None


def _envelope(stream, source, entity_id, properties, timestamp_ms, key, schema) -> dict:
    if not isinstance(properties, Mapping):
        # The engine would accept it with 200 and silently derive no state (§4.1 notes).
        raise BadRequest(400, "properties must be a JSON object")
    event: dict[str, Any] = {
        "stream": stream, "source": source,
        "timestamp": now_ms() if timestamp_ms is None else timestamp_ms,
        "payload": {"entity_id": entity_id, "properties": dict(properties)},
    }
    if key is not None:
        event["key"] = key
    if schema is not None:
        event["schema"] = schema
    return event


_ITEM_KEYS = ("stream", "source", "entity_id", "properties")


def _batch_envelope(index: int, item: Mapping[str, Any]) -> dict:
    if "payload" in item:  # already an envelope: only the required timestamp may be missing
        envelope = dict(item)
        envelope.setdefault("timestamp", now_ms())
        return envelope
    missing = [name for name in _ITEM_KEYS if name not in item]
    if missing:
        raise BadRequest(400, f"batch item {index} lacks {', '.join(missing)}")
    return _envelope(item["stream"], item["source"], item["entity_id"], item["properties"],
                     item.get("timestamp_ms"), item.get("key"), item.get("schema"))


def _encode(value: Any, limit: int, what: str) -> bytes:
    try:
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise BadRequest(400, f"The {what} is not valid JSON: {error}") from None
    if len(body) > limit:
        raise PayloadTooLarge(413, f"The {what} is {len(body):,} bytes; the engine accepts at "
                                   f"most {limit:,}. Nothing was sent.")
    return body


class Subscription:
    """An open `/api/ws` connection; iterate it for parsed messages (dicts).

    `metrics_update` arrives every 2 s, so a silence longer than the timeout means the engine
    is gone: that raises WorldStateUnavailable. A close by the server ends the iteration.
    """

    def __init__(self, url: str, entity_ids: Iterable[str] | None, timeout: float):
        import websocket  # only the live view needs it

        self._websocket = websocket
        self.url = url
        try:
            self._socket = websocket.create_connection(url, timeout=timeout)
        except (OSError, websocket.WebSocketException) as error:
            raise WorldStateUnavailable(None, f"Live updates at {url} cannot be opened "
                                              f"({type(error).__name__}).") from error
        self.timeout = timeout
        for entity_id in entity_ids or ():
            self.subscribe(entity_id)

    def subscribe(self, entity_id: str) -> None:
        self._send({"type": "subscribe", "entity_id": entity_id})

    def unsubscribe(self, entity_id: str) -> None:
        self._send({"type": "unsubscribe", "entity_id": entity_id})

    def _send(self, message: dict) -> None:
        try:
            self._socket.send(json.dumps(message))
        except (OSError, self._websocket.WebSocketException) as error:
            raise WorldStateUnavailable(None, f"Live updates at {self.url} were cut "
                                              f"({type(error).__name__}).") from error

    def __iter__(self) -> Iterator[dict]:
        return self

    def __next__(self) -> dict:
        while True:
            try:
                frame = self._socket.recv()
            except self._websocket.WebSocketTimeoutException as error:
                raise WorldStateUnavailable(None, f"No live update from {self.url} within "
                                                  f"{self.timeout:g} s.") from error
            except self._websocket.WebSocketConnectionClosedException:
                raise StopIteration from None
            except OSError as error:
                raise WorldStateUnavailable(None, f"Live updates at {self.url} were cut "
                                                  f"({type(error).__name__}).") from error
            if not frame:
                if not self._socket.connected:
                    raise StopIteration
                continue
            if isinstance(frame, bytes):
                continue
            try:
                message = json.loads(frame)
            except ValueError:
                continue
            if isinstance(message, dict):
                return message

    def close(self) -> None:
        self._socket.close()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
