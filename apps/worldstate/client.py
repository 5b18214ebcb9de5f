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

An engine is an untrusted peer whose address a team manager typed in (shared DESIGN):

- Every connection goes through fluxpanel.netguard: the address is resolved, checked (no
  loopback, private, link-local, metadata … unless `allow_private`) and pinned for the
  connection, so DNS rebinding can't slip between the form's check and the call.
- Redirects are never followed: a 3xx is an error ("the engine answered a redirect").
- Every answer is read with a byte cap per call and a total deadline (netguard.read_capped);
  a 300 MB or never-ending answer costs at most the cap.
- An error answer's body is never echoed: only a short `{"error": "..."}` message of the
  engine's own handlers is shown; anything else is summarised ("1.2 kB of text/html").
- Every 2xx answer is checked for shape and types (apps.worldstate.answers) before it is
  returned; a wrong one raises MalformedAnswer.
"""
from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from operator import itemgetter
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from apps.worldstate import answers
from apps.worldstate.answers import (  # noqa: F401  (re-exported: the client's result types)
    BatchItem,
    BatchResult,
    Entity,
    parse_timestamp,
)
from apps.worldstate.errors import (  # noqa: F401  (re-exported: callers import them from here)
    ERRORS_BY_STATUS,
    BadRequest,
    Conflict,
    Forbidden,
    MalformedAnswer,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    WorldStateError,
    WorldStateUnavailable,
)
from fluxpanel import netguard

SINGLE_EVENT_LIMIT = 1_048_576
BATCH_BODY_LIMIT = 2_097_152
MAX_BATCH_DELETE = 10_000
TOMBSTONE_STREAM = "flux.events.deletions"
CONFIG_FIELDS = frozenset(answers.CONFIG_TYPES)
# `/api/state/entities/` has no segment to match, and `.../delete` is the batch-delete route.
_UNROUTABLE_IDS = frozenset({"", "delete"})

# The most the panel reads of one answer, per kind of call. A listing of 50,000 typical
# entities fits in the first; one entity may grow past the 1 MiB event limit by merging.
LISTING_ANSWER_LIMIT = 8 * 1024 * 1024
ENTITY_ANSWER_LIMIT = 2 * 1024 * 1024
SMALL_ANSWER_LIMIT = 256 * 1024
ERROR_ANSWER_LIMIT = 64 * 1024
ERROR_MESSAGE_CHARS = 300  # a longer `error` text is summarised, not shown

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
                 session: requests.Session | None = None, allow_private: bool = False):
        """`timeout` bounds each call as a whole (connect, wait and body), not each read.
        `allow_private` lets loopback/private engines through (development and tests only)."""
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.admin_token = admin_token
        self.timeout = timeout
        self.allow_private = allow_private
        self.session = session or netguard.guarded_session(allow_private=allow_private)

    # ---- reads ----------------------------------------------------------------------------------

    def health(self) -> bool:
        """True when the engine answers. It has no health route; the config read is the cheapest."""
        try:
            self.admin_config()
        except WorldStateError:
            return False
        return True

    def entity(self, entity_id: str) -> Entity | None:
        if entity_id in _UNROUTABLE_IDS:
            return next((item for item in self.entities(prefix=entity_id)
                         if item.id == entity_id), None)
        try:
            data = self._get_json(f"/api/state/entities/{encode_id(entity_id)}",
                                  limit=ENTITY_ANSWER_LIMIT)
        except NotFound as error:
            if error.message == "Entity not found":
                return None
            raise  # an empty-body 404 means a wrong route, not a missing entity
        return answers.entity(data)

    def entities(self, *, prefix: str | None = None,
                 namespace: str | None = None) -> list[Entity]:
        """All matching entities, sorted by id (the engine answers in arbitrary order)."""
        return [Entity.from_json(item) for item in self.entity_rows(prefix=prefix, namespace=namespace)]

    def entity_rows(self, *, prefix: str | None = None,
                    namespace: str | None = None) -> list[dict]:
        """Like entities(), as the engine's own dicts sorted by id: a page that shows 50 of
        10,000 entities sorts and counts these and turns only its rows into Entity objects
        (Entity.from_json checks each row's properties in full)."""
        params = {name: value for name, value in
                  (("prefix", prefix), ("namespace", namespace)) if value is not None}
        rows = answers.entity_rows(self._get_json("/api/state/entities", params=params,
                                                  limit=LISTING_ANSWER_LIMIT))
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
        return answers.events(self._get_json("/api/events", params=params,
                                             limit=LISTING_ANSWER_LIMIT))

    def connectors(self) -> list[dict]:
        return answers.connectors(self._get_json("/api/connectors", auth=self.token))

    def admin_config(self) -> dict:
        return answers.config(self._get_json("/api/admin/config"))

    def namespace(self, name: str) -> dict | None:
        """Namespace info (never its token), or None when the engine doesn't know it."""
        try:
            return answers.namespace_info(self._get_json(f"/api/namespaces/{quote(name, safe='')}"))
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
        return answers.event_id(self._send("POST", "/api/events", body, auth=self.token).json(),
                                "POST /api/events")

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
        return answers.batch(data, len(envelopes))

    def delete(self, entity_id: str) -> str:
        """Delete an entity (a tombstone event; the engine says 200 even if it didn't exist)."""
        if entity_id in _UNROUTABLE_IDS:
            tombstone = {"stream": TOMBSTONE_STREAM, "source": "api", "timestamp": now_ms(),
                         "key": entity_id,
                         "payload": {"entity_id": entity_id,
                                     "properties": {"__deleted__": True,
                                                    "__deleted_at__": now_ms()}}}
            body = _encode(tombstone, SINGLE_EVENT_LIMIT, "event")
            return answers.event_id(self._send("POST", "/api/events", body, auth=self.token).json(),
                                    "POST /api/events")
        response = self._send("DELETE", f"/api/state/entities/{encode_id(entity_id)}",
                              auth=self.token)
        return answers.event_id(response.json(), "DELETE /api/state/entities/:id")

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
        deleted, failed, errors = answers.deletion(
            self._send("POST", "/api/state/entities/delete", body, auth=self.token).json())
        if failed:
            raise WorldStateError(500, f"deleted {deleted}, failed {failed}: "
                                       + "; ".join(_short(e) for e in errors[:3]))
        return deleted

    def update_admin_config(self, **fields: Any) -> dict:
        """Partial update of the runtime config; takes effect at once, lost on engine restart."""
        unknown = set(fields) - CONFIG_FIELDS
        if unknown:
            raise TypeError(f"unknown runtime config field(s): {', '.join(sorted(unknown))}")
        body = _encode(fields, SINGLE_EVENT_LIMIT, "config")
        return answers.config(self._send("PUT", "/api/admin/config", body,
                                         auth=self.admin_token).json(), "PUT /api/admin/config")

    def register_namespace(self, name: str) -> tuple[str, str]:
        """Register a namespace; returns (namespaceId, token). The token is shown only once."""
        body = _encode({"name": name}, SINGLE_EVENT_LIMIT, "namespace")
        return answers.registered_namespace(
            self._send("POST", "/api/namespaces", body, auth=self.admin_token).json())

    def delete_namespace(self, name: str) -> None:
        """Unregister a namespace; its entities stay."""
        self._send("DELETE", f"/api/namespaces/{quote(name, safe='')}", auth=self.admin_token)

    # ---- live updates ---------------------------------------------------------------------------

    def subscribe(self, entity_ids: Iterable[str] | None = None, *,
                  silence: float | None = None) -> Subscription:
        """Open `/api/ws`. No ids: every update. Ids: exact matches only (no prefixes).

        Deletions and metrics arrive regardless of the ids. `silence`: how long without a
        message means the engine is gone (default: the client's timeout).
        """
        scheme, _, rest = self.base_url.partition("://")
        ws_scheme = "wss" if scheme == "https" else "ws"
        return Subscription(f"{ws_scheme}://{rest}/api/ws", entity_ids, self.timeout,
                            allow_private=self.allow_private, silence=silence)

    # ---- transport ------------------------------------------------------------------------------

    def _get_json(self, path: str, *, params: Mapping[str, Any] | None = None,
                  auth: str | None = None, limit: int = SMALL_ANSWER_LIMIT) -> Any:
        return self._send("GET", path, params=params, auth=auth, limit=limit).json()

    def _send(self, method: str, path: str, body: bytes | None = None, *,
              params: Mapping[str, Any] | None = None, auth: str | None = None,
              limit: int = SMALL_ANSWER_LIMIT) -> _Response:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if auth:
            headers["Authorization"] = f"Bearer {auth}"
        url = self.base_url + path
        retries = 0
        while True:
            deadline = time.monotonic() + self.timeout
            response = self._attempt(method, url, params, body, headers)
            if response.status_code == 429 and retries < self.RATE_LIMIT_RETRIES:
                wait = _retry_after(response)
                if wait is not None and wait <= self.MAX_RETRY_WAIT:
                    response.close()
                    time.sleep(wait)
                    retries += 1
                    continue
            if 300 <= response.status_code < 400:
                response.close()
                raise WorldStateError(response.status_code,
                                      "The engine answered a redirect; the panel does not follow "
                                      "redirects, so check the engine URL")
            if response.status_code >= 400:
                raise _error_from(response, self._read(response, ERROR_ANSWER_LIMIT, deadline,
                                                       error=True))
            return _Response(response.status_code, self._read(response, limit, deadline), method, path)

    def _attempt(self, method, url, params, body, headers) -> requests.Response:
        try:
            return self.session.request(method, url, params=params, data=body, headers=headers,
                                        timeout=self.timeout, stream=True, allow_redirects=False)
        except netguard.OutboundRefused as error:
            raise WorldStateUnavailable(None, f"The panel does not call {self.base_url}: "
                                              f"{error}") from error
        except requests.Timeout as error:
            raise WorldStateUnavailable(None, f"The world-state engine at {self.base_url} did "
                                              f"not answer within {self.timeout:g} s.") from error
        except requests.RequestException as error:
            raise WorldStateUnavailable(None, f"The world-state engine at {self.base_url} "
                                              f"cannot be reached ({type(error).__name__}).") \
                from error

    def _read(self, response: requests.Response, limit: int, deadline: float, *,
              error: bool = False) -> bytes | None:
        """The body within `limit` bytes and the call's deadline. An error answer that is too
        large gives None (it is only summarised anyway)."""
        try:
            return netguard.read_capped(response, limit, deadline=deadline)
        except netguard.ResponseTooLarge:
            if error:
                return None
            raise MalformedAnswer(response.status_code,
                                  f"The world-state engine's answer is larger than the "
                                  f"{_size(limit)} the panel reads for this call; the panel did "
                                  "not use it.") from None
        except netguard.ResponseTooSlow:
            raise WorldStateUnavailable(None, f"The world-state engine at {self.base_url} did "
                                              f"not finish its answer within {self.timeout:g} s.") \
                from None
        except requests.RequestException as exc:
            raise WorldStateUnavailable(None, f"The world-state engine at {self.base_url} broke "
                                              f"off its answer ({type(exc).__name__}).") from None


class _Response:
    """A 2xx answer's body, decoded as JSON on demand with a clear error if it isn't JSON."""

    def __init__(self, status: int, body: bytes, method: str, path: str):
        self.status_code = status
        self.body = body
        self.what = f"{method} {path}"

    def json(self) -> Any:
        try:
            # Strict UTF-8: encoded surrogates are refused here, escaped ones by the answer checks.
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, RecursionError):  # RecursionError: nested deeper than json can parse
            raise MalformedAnswer(self.status_code,
                                  f"The world-state engine's answer to {self.what} is not JSON "
                                  "the panel can read; the panel did not use it.") from None


def _size(count: int) -> str:
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


def _short(text: str) -> str:
    """An engine message fit for a page: one line of printable text, or a summary."""
    cleaned = " ".join(text.split())
    if not cleaned or len(cleaned) > ERROR_MESSAGE_CHARS or not cleaned.isprintable():
        return f"a message of {len(text)} characters, not shown"
    return cleaned


def _error_from(response: requests.Response, body: bytes | None) -> WorldStateError:
    """The typed error of a 4xx/5xx answer. Only the engine handlers' own short
    `{"error": "..."}` message is shown; any other body is summarised, never echoed (it may be
    an internal service's page)."""
    message = None
    if body:
        try:
            data = json.loads(body.decode("utf-8"))
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict) and isinstance(data.get("error"), str) \
                and answers.is_text(data["error"]):
            message = _short(data["error"])
    if message is None:
        kind = response.headers.get("Content-Type", "").split(";")[0].strip()[:60] or "no type"
        if not kind.isprintable():
            kind = "an unprintable type"
        if body is None:
            size = f"over {_size(ERROR_ANSWER_LIMIT)}"
        else:
            size = _size(len(body)) if body else "empty"
        message = f"The engine answered an error ({size}, {kind}; not shown)"
    status = response.status_code
    kind_of_error = ERRORS_BY_STATUS.get(status, WorldStateError)
    if kind_of_error is RateLimited:
        return RateLimited(status, message, retry_after=_retry_after(response))
    return kind_of_error(status, message)


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
    except (TypeError, ValueError, OverflowError):
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


# A WebSocket message larger than this is refused before it is read (a state_update carries one
# property value; the engine's own event limit is 1 MiB).
WS_MESSAGE_LIMIT = 2 * 1024 * 1024


class SubscriptionEnded(WorldStateUnavailable):
    """The engine closed the live connection (or it broke); `reason` says how, for a page."""


class Subscription:
    """An open `/api/ws` connection; iterate it for parsed messages (dicts).

    The engine is untrusted, so the connection is bounded (shared/reference §5 says what a real
    engine sends: JSON text frames, metrics_update every 2 s, never a ping of its own):

    - no message for `silence` seconds means the engine is gone or stalls: WorldStateUnavailable
      (pings or pongs alone do not count as a sign of life);
    - a message over `max_bytes` (one frame or the sum of its fragments) is refused before its
      payload is read, and a frame must finish within `silence` seconds of its header;
    - a frame that is not a JSON object is counted in `garbage` and skipped; `max_garbage` of them
      in a row end the connection (an engine that only sends garbage is not live).

    A close by the engine ends the iteration with SubscriptionEnded.
    """

    def __init__(self, url: str, entity_ids: Iterable[str] | None, timeout: float, *,
                 allow_private: bool = False, silence: float | None = None,
                 max_bytes: int = WS_MESSAGE_LIMIT, max_garbage: int = 20):
        import websocket  # only live updates need it

        self._websocket = websocket
        self.url = url
        self.silence = silence if silence is not None else timeout
        self.max_bytes = max_bytes
        self.max_garbage = max_garbage
        self.garbage = 0
        try:
            connected = _pinned_socket(url, timeout, allow_private)
            self._socket = websocket.create_connection(url, timeout=timeout, socket=connected,
                                                       class_=_bounded_websocket_class())
        except netguard.OutboundRefused as error:
            raise WorldStateUnavailable(None, f"The panel does not open {url}: {error}") from error
        except websocket.WebSocketBadStatusException as error:
            raise WorldStateUnavailable(None, f"The engine refused live updates at {url} "
                                              f"(HTTP {error.status_code}).") from error
        except (OSError, websocket.WebSocketException) as error:
            raise WorldStateUnavailable(None, f"Live updates at {url} cannot be opened "
                                              f"({_os_reason(error)}).") from error
        self._socket.settimeout(self.silence)
        self._socket.frame_buffer.limit(max_bytes, self.silence)
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
            raise SubscriptionEnded(None, f"Live updates at {self.url} were cut "
                                          f"({type(error).__name__}).") from error

    def __iter__(self) -> Iterator[dict]:
        return self

    def __next__(self) -> dict:
        ws = self._websocket
        from websocket._abnf import ABNF

        while True:
            try:
                opcode, data = self._socket.recv_data(control_frame=True)
            except (ws.WebSocketTimeoutException, TimeoutError) as error:
                raise WorldStateUnavailable(None, f"No live update from the engine within "
                                                  f"{self.silence:g} s (it sends metrics every "
                                                  "2 s): it stalls or is gone.") from error
            except _TooLarge as error:
                raise WorldStateUnavailable(None, str(error)) from None
            except ws.WebSocketConnectionClosedException:
                raise SubscriptionEnded(None, "The live connection broke: the engine went "
                                              "away without closing it.") from None
            except (OSError, ws.WebSocketException) as error:
                raise SubscriptionEnded(None, f"The live connection broke "
                                              f"({_os_reason(error)}).") from error
            if opcode == ABNF.OPCODE_CLOSE:
                raise SubscriptionEnded(None, f"The engine closed the live connection"
                                              f"{_close_code(data)}.")
            if opcode in (ABNF.OPCODE_PING, ABNF.OPCODE_PONG):
                continue
            message = None
            if opcode == ABNF.OPCODE_TEXT:
                try:
                    message = json.loads(data.decode("utf-8"))
                except (ValueError, RecursionError):
                    message = None
            if isinstance(message, dict):
                self.garbage = 0
                return message
            self.garbage += 1
            if self.garbage >= self.max_garbage:
                raise WorldStateUnavailable(None, f"The engine sent {self.garbage} messages in "
                                                  "a row that are not JSON objects; not a "
                                                  "world-state engine's live updates.")

    def pending(self) -> bool:
        """Is part of another message already here (so reading it will not wait)?"""
        import select

        if self._socket.frame_buffer.recv_buffer:
            return True
        sock = self._socket.sock
        if sock is None:
            return False
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        try:
            return bool(select.select([sock], [], [], 0)[0])
        except (OSError, ValueError):
            return False

    def abort(self) -> None:
        """From another thread: cut the connection, waking a thread blocked reading it."""
        try:
            self._socket.abort()
        except (OSError, self._websocket.WebSocketException):
            pass

    def close(self) -> None:
        try:
            self._socket.close(timeout=1)
        except (OSError, self._websocket.WebSocketException):
            pass

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _TooLarge(Exception):
    pass


def _close_code(payload: bytes) -> str:
    if not isinstance(payload, bytes) or len(payload) < 2:
        return ""
    code = int.from_bytes(payload[:2], "big")
    return f" (code {code})"


def _os_reason(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError):
        return "connection reset"
    if isinstance(error, TimeoutError | socket.timeout):
        return "timed out"
    return type(error).__name__


_BOUNDED_CLASS = None


def _bounded_websocket_class():
    """websocket-client's WebSocket with a frame reader that refuses a message over the limit
    from its header (before reading the payload), bounds a frame's time after its header, and
    does not let control frames alone (pings) keep a silent connection alive."""
    global _BOUNDED_CLASS
    if _BOUNDED_CLASS is not None:
        return _BOUNDED_CLASS
    import websocket
    from websocket._abnf import ABNF, frame_buffer

    class BoundedFrames(frame_buffer):
        max_bytes = WS_MESSAGE_LIMIT
        silence = 10.0

        def limit(self, max_bytes: int, silence: float) -> None:
            self.max_bytes, self.silence = max_bytes, silence
            self.message_bytes = 0
            self.frame_deadline = None
            self.last_data = time.monotonic()

        def recv_length(self) -> None:
            super().recv_length()
            opcode = self.header[4]
            now = time.monotonic()
            if opcode >= ABNF.OPCODE_CLOSE:  # control frames: at most 125 bytes by RFC 6455
                if self.length > 125:
                    raise _TooLarge("The engine sent a malformed control frame.")
                if now - getattr(self, "last_data", now) > self.silence:
                    raise websocket.WebSocketTimeoutException("only pings, no message")
            else:
                self.last_data = now
                if opcode != ABNF.OPCODE_CONT:
                    self.message_bytes = 0
                self.message_bytes = getattr(self, "message_bytes", 0) + self.length
                if self.message_bytes > self.max_bytes:
                    raise _TooLarge(f"The engine sent a live message over "
                                    f"{_size(self.max_bytes)}; the panel does not read it.")
            self.frame_deadline = now + self.silence

        def recv_strict(self, bufsize: int) -> bytes:
            deadline = getattr(self, "frame_deadline", None)
            if deadline is not None and time.monotonic() > deadline:
                raise websocket.WebSocketTimeoutException("a frame took too long")
            return super().recv_strict(bufsize)

        def clear(self) -> None:
            super().clear()
            self.frame_deadline = None

    class BoundedWebSocket(websocket.WebSocket):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.frame_buffer = BoundedFrames(self._recv, kwargs.get("skip_utf8_validation", False))

    _BOUNDED_CLASS = BoundedWebSocket
    return BoundedWebSocket


def _pinned_socket(url: str, timeout: float, allow_private: bool) -> socket.socket:
    """A socket to the checked address of `url` (the HTTP side's rule, see netguard), wrapped in
    TLS for wss:// with the host name for SNI and certificate checks. websocket-client then
    speaks WebSocket over it and does no resolving of its own."""
    parts = urlsplit(url)
    secure = parts.scheme == "wss"
    port = parts.port or (443 if secure else 80)
    host = parts.hostname or ""
    error: OSError | None = None
    for *_, sockaddr in netguard.check_host(host, port, allow_private=allow_private):
        try:
            sock = socket.create_connection((sockaddr[0], sockaddr[1]), timeout=timeout)
            break
        except OSError as exc:
            error = exc
    else:
        raise error or OSError(f"cannot connect to {host}")
    if secure:
        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
    return sock
