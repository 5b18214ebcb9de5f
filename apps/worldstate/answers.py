"""The engine's answers, checked once: shapes and types of every answer the client returns.

An engine is an untrusted peer. Without these checks a list where a dict belongs, a string where
a number belongs, a missing key or a null reached the views and the bridge as a KeyError or a
TypeError (33 server errors on five pages). Each function here takes a decoded JSON answer and
returns what the client promises, or raises MalformedAnswer naming the call and the first fault;
views show that message and use nothing of the answer.

Values that are shown or sent again (entity properties, event payloads, ids) are also checked
for nesting depth and for lone surrogates: a property nested 900 levels deep breaks the page's
pretty-printer (RecursionError) and a lone surrogate cannot be encoded as UTF-8 (the page, or a
delete that sends the id back, fails). The same limits apply to what the panel publishes
(apps.worldstate.forms), so the panel never publishes what it could not show.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apps.worldstate.errors import MalformedAnswer

MAX_DEPTH = 64  # levels of arrays/objects in one value (properties, payload)
MAX_TIMESTAMP_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last date Python can show
MAX_COUNT = 2**64 - 1
TOO_DEEP = "a value is nested deeper than"  # the engine's counters are u64/usize
CONFIG_TYPES = {
    "rate_limit_enabled": bool,
    "rate_limit_per_namespace_per_minute": int,
    "body_size_limit_single_bytes": int,
    "body_size_limit_batch_bytes": int,
}


def _bad(what: str, problem: str) -> MalformedAnswer:
    return MalformedAnswer(None, f"The world-state engine's answer to {what} is not what its API "
                                 f"promises ({problem}); the panel did not use it.")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def is_text(value: str) -> bool:
    """True for a string that is valid Unicode (encodable as UTF-8: no lone surrogate)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def value_problem(value: Any, max_depth: int = MAX_DEPTH) -> str | None:
    """Why a JSON value can't be shown or sent again (too deep, a lone surrogate), or None.
    Iterative, so a deep value costs no Python stack."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not is_text(item):
                return "a string holds a lone surrogate (not valid Unicode)"
        elif isinstance(item, (dict, list)):
            if depth > max_depth:
                return f"{TOO_DEEP} {max_depth} levels"
            if isinstance(item, dict):
                for key, inner in item.items():
                    if not is_text(key):
                        return "a key holds a lone surrogate (not valid Unicode)"
                    stack.append((inner, depth + 1))
            else:
                stack.extend((inner, depth + 1) for inner in item)
    return None


def _object(value: Any, what: str, where: str = "the answer") -> dict:
    if not isinstance(value, dict):
        raise _bad(what, f"{where} is {_kind(value)}, not an object")
    return value


def _list(value: Any, what: str, where: str = "the answer") -> list:
    if not isinstance(value, list):
        raise _bad(what, f"{where} is {_kind(value)}, not an array")
    return value


def _text(data: dict, key: str, what: str, where: str, *, optional: bool = False) -> str | None:
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _bad(what, f"{where}: `{key}` is {'missing' if key not in data else _kind(value)}, "
                         "not a string")
    if not is_text(value):
        raise _bad(what, f"{where}: `{key}` holds a lone surrogate")
    return value


def _count(data: dict, key: str, what: str, where: str = "the answer",
           maximum: int = MAX_COUNT) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        shown = "missing" if key not in data else (_kind(value) if not isinstance(value, int)
                                                     or isinstance(value, bool) else "out of range")
        raise _bad(what, f"{where}: `{key}` is {shown}, not a count")
    return value


def _properties(data: dict, what: str, where: str) -> dict:
    value = data.get("properties")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad(what, f"{where}: `properties` is {_kind(value)}, not an object")
    problem = value_problem(value)
    if problem:
        raise _bad(what, f"{where}: {problem}")
    return value


# ---- results ------------------------------------------------------------------------------------


def parse_timestamp(text: Any) -> datetime | None:
    """Engine time strings: `+00:00` (REST) or `Z` (WS), with 0 to 9 fraction digits. Anything
    else, or a date too close to year 1 or 9999 to convert between time zones, is None."""
    if not text or not isinstance(text, str):
        return None
    value = _fromisoformat(text)
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not 2 <= value.year <= 9998:
        return None
    return value.astimezone(UTC)


def _fromisoformat(text: str) -> datetime | None:
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
    def from_json(cls, data: Mapping[str, Any], what: str = "an entity read") -> Entity:
        # Listings hold 10,000s of these: keep the decoded dict as is, no copies.
        data = _object(data, what, "the entity")
        entity_id = _text(data, "id", what, "the entity")
        return cls(entity_id, _properties(data, what, f"entity {entity_id!r}"),
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


# ---- one check per call ---------------------------------------------------------------------


def entity_rows(value: Any) -> list[dict]:
    """A listing: an array of entity objects. Cheap per row (id and the type of properties);
    the deep check of properties runs when a row becomes an Entity (only the rows shown)."""
    what = "GET /api/state/entities"
    rows = _list(value, what)
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise _bad(what, f"item {index + 1} is {_kind(row)}, not an object")
        _text(row, "id", what, f"item {index + 1}")
        properties = row.get("properties")
        if properties is not None and not isinstance(properties, dict):
            raise _bad(what, f"item {index + 1}: `properties` is {_kind(properties)}, not an object")
    return rows


def entity(value: Any) -> Entity:
    return Entity.from_json(value, "GET /api/state/entities/:id")


def events(value: Any) -> list[dict]:
    """History: stored event envelopes, each with a payload object and epoch-ms timestamp."""
    what = "GET /api/events"
    found = _list(value, what)
    for index, event in enumerate(found):
        where = f"event {index + 1}"
        if not isinstance(event, dict):
            raise _bad(what, f"{where} is {_kind(event)}, not an object")
        for key in ("eventId", "stream", "source"):
            _text(event, key, what, where)
        _count(event, "timestamp", what, where, maximum=MAX_TIMESTAMP_MS)
        payload = _object(event.get("payload"), what, f"{where}: `payload`")
        _text(payload, "entity_id", what, f"{where} payload", optional=True)
        _properties(payload, what, f"{where} payload")
    return found


def connectors(value: Any) -> list[dict]:
    what = "GET /api/connectors"
    found = _list(_object(value, what).get("connectors"), what, "`connectors`")
    for index, item in enumerate(found):
        where = f"connector {index + 1}"
        if not isinstance(item, dict):
            raise _bad(what, f"{where} is {_kind(item)}, not an object")
        _text(item, "name", what, where)
        _text(item, "status", what, where)
        if not isinstance(item.get("enabled"), bool):
            raise _bad(what, f"{where}: `enabled` is {_kind(item.get('enabled'))}, not a boolean")
    return found


def config(value: Any, what: str = "GET /api/admin/config") -> dict:
    data = _object(value, what)
    for key, kind in CONFIG_TYPES.items():
        if kind is bool:
            if not isinstance(data.get(key), bool):
                raise _bad(what, f"`{key}` is {'missing' if key not in data else _kind(data.get(key))}, "
                                 "not a boolean")
        else:
            _count(data, key, what)
    return data


def event_id(value: Any, what: str) -> str:
    return _text(_object(value, what), "eventId", what, "the answer")


def batch(value: Any, sent: int) -> BatchResult:
    """A batch answer must have one result per event sent, in order."""
    what = "POST /api/events/batch"
    data = _object(value, what)
    results = _list(data.get("results"), what, "`results`")
    if len(results) != sent:
        raise _bad(what, f"{len(results)} results for {sent} events")
    items = []
    for index, item in enumerate(results):
        where = f"result {index + 1}"
        if not isinstance(item, dict):
            raise _bad(what, f"{where} is {_kind(item)}, not an object")
        items.append(BatchItem(_text(item, "eventId", what, where, optional=True),
                               _text(item, "stream", what, where, optional=True),
                               _text(item, "error", what, where, optional=True)))
    return BatchResult(_count(data, "successful", what), _count(data, "failed", what), items)


def deletion(value: Any) -> tuple[int, int, list[str]]:
    what = "POST /api/state/entities/delete"
    data = _object(value, what)
    errors = data.get("errors") or []
    if not isinstance(errors, list) or not all(isinstance(e, str) and is_text(e) for e in errors):
        raise _bad(what, "`errors` is not an array of strings")
    return _count(data, "deleted", what), _count(data, "failed", what), errors


def namespace_info(value: Any) -> dict:
    what = "GET /api/namespaces/:name"
    data = _object(value, what)
    _text(data, "namespaceId", what, "the answer")
    _text(data, "name", what, "the answer")
    return data


def registered_namespace(value: Any) -> tuple[str, str]:
    what = "POST /api/namespaces"
    data = _object(value, what)
    return _text(data, "namespaceId", what, "the answer"), _text(data, "token", what, "the answer")
