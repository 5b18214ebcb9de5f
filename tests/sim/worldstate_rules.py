"""Pure rules of the Flux world-state engine, shared by the double's handlers.

Everything here mirrors a fact in shared/reference/worldstate-api.md (section numbers in the
docstrings); nothing touches the network, so each rule can be read and checked on its own.
"""
from __future__ import annotations

import os
import re
import time
import uuid
from datetime import datetime

STREAM_RE = re.compile(r"[a-z0-9]+(\.[a-z0-9]+)*")
NAMESPACE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")
TOMBSTONE_STREAM = "flux.events.deletions"
CONNECTORS = {"github": 300, "gmail": 60, "linkedin": 600, "calendar": 300}  # name -> poll secs
DEFAULT_CONFIG = {
    "rate_limit_enabled": True,
    "rate_limit_per_namespace_per_minute": 10000,
    "body_size_limit_single_bytes": 1048576,
    "body_size_limit_batch_bytes": 10485760,
}
# axum's default body limit applies before any handler (§3.1, §8).
AXUM_BODY_LIMIT = 2 * 1024 * 1024
# chrono's parse_from_rfc3339: full date-time with a mandatory offset (§4.3).
RFC3339_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)


def now_ns() -> int:
    return time.time_ns()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def uuid7() -> str:
    """A time-ordered UUIDv7, as the engine generates for a missing or empty eventId (§4.1)."""
    ms = now_ms() & ((1 << 48) - 1)
    rand = int.from_bytes(os.urandom(10), "big")
    rand_a = (rand >> 62) & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))


def rfc3339(ns: int, *, zulu: bool = False) -> str:
    """chrono's AutoSi form: 0, 3, 6 or 9 fraction digits; REST ends `+00:00`, WS ends `Z` (§3.2)."""
    secs, nanos = divmod(ns, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    if nanos == 0:
        fraction = ""
    elif nanos % 1_000_000 == 0:
        fraction = f".{nanos // 1_000_000:03d}"
    elif nanos % 1000 == 0:
        fraction = f".{nanos // 1000:06d}"
    else:
        fraction = f".{nanos:09d}"
    return text + fraction + ("Z" if zulu else "+00:00")


def parse_rfc3339(text: str) -> datetime | None:
    """The `since` parameter: RFC 3339 with an offset, else None (§4.3)."""
    match = RFC3339_RE.fullmatch(text)
    if not match:
        return None
    fraction = (match.group(7) or "")[:7]  # Python keeps microseconds only
    offset = match.group(8).upper()
    iso = "{}-{}-{}T{}:{}:{}{}{}".format(*match.groups()[:6], fraction, offset)
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        return None


def validate_event(event: dict) -> str | None:
    """The semantic checks of §4.1 step 3, in the engine's order; None when valid."""
    if event["stream"] == "":
        return "stream is required"
    if event["source"] == "":
        return "source is required"
    if event["payload"] is None:
        return "payload is required"
    if not STREAM_RE.fullmatch(event["stream"]):
        return f"invalid stream format '{event['stream']}': must be lowercase with optional dots"
    if event["timestamp"] <= 0:
        return f"timestamp must be positive, got {event['timestamp']}"
    if not isinstance(event["payload"], dict):
        return "payload must be a JSON object"
    return None


def rust_debug(text: str) -> str:
    """A string in Rust `{:?}` form, because parse errors reach clients in debug form (§4.6)."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{{{ord(char):x}}}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def namespace_name_error(name: str) -> tuple[str, str] | None:
    """(debug form, API message) of a bad namespace name, else None (§4.8, §6.4).

    Length is counted in UTF-8 bytes, as Rust's `str::len` does.
    """
    size = len(name.encode("utf-8"))
    if size < 3:
        return "TooShort", "Namespace name too short (minimum 3 characters)"
    if size > 32:
        return "TooLong", "Namespace name too long (maximum 32 characters)"
    for char in name:
        if char not in NAMESPACE_CHARS:
            message = f"Invalid character '{char}' (must be [a-z0-9-_])"
            return f"InvalidCharacters({rust_debug(message)})", message
    return None


class EntityIdError(ValueError):
    """An entity id the auth-mode parser refuses; `debug` is the Rust debug form."""

    def __init__(self, debug: str):
        super().__init__(debug)
        self.debug = debug


def parse_entity_id(entity_id: str) -> str | None:
    """The namespace of an id (None when it has none), or EntityIdError (§6.4)."""
    if entity_id == "":
        raise EntityIdError("Empty")
    parts = entity_id.split("/")
    if len(parts) > 2:
        message = (
            f"Entity ID '{entity_id}' contains multiple '/' separators (expected at most one)"
        )
        raise EntityIdError(f"InvalidFormat({rust_debug(message)})")
    if len(parts) == 1:
        return None
    namespace, entity = parts
    if namespace == "":
        raise EntityIdError(f"InvalidFormat({rust_debug('Namespace part cannot be empty')})")
    if entity == "":
        raise EntityIdError(f"InvalidFormat({rust_debug('Entity part cannot be empty')})")
    problem = namespace_name_error(namespace)
    if problem:
        message = f"Invalid namespace '{namespace}': {problem[0]}"
        raise EntityIdError(f"InvalidNamespace({rust_debug(message)})")
    return namespace


def parse_bearer(header: str | None) -> str:
    """The lenient bearer parser used by ingest and connectors (§6.2, §4.10).

    Raises ValueError with the engine's TokenError text.
    """
    if header is None:
        raise ValueError("Authorization token not provided")
    if not is_header_text(header):
        raise ValueError("Invalid authorization token format")
    scheme, sep, token = header.partition(" ")
    if not sep or scheme.lower() != "bearer":
        raise ValueError("Invalid authorization token format")
    token = token.strip()
    if not token:
        raise ValueError("Authorization token is empty")
    return token


def is_header_text(value: str) -> bool:
    """http's HeaderValue::to_str: visible ASCII, space and tab only."""
    return all(char == "\t" or 0x20 <= ord(char) < 0x7F for char in value)


def rate_limit_key(event: dict) -> str:
    """Bucket key: the namespace of payload.entity_id, falling back to the stream (§8)."""
    entity_id = event["payload"].get("entity_id") if isinstance(event["payload"], dict) else None
    if isinstance(entity_id, str):
        try:
            namespace = parse_entity_id(entity_id)
        except EntityIdError:
            namespace = None
        if namespace:
            return namespace
    return event["stream"]
