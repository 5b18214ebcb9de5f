"""Body decoding with serde_json-style error texts, so the double's 400/422 bodies read like the
engine's (§4.1 step 2, §3.1).

The message kinds follow serde_json ("missing field `x`", "invalid type: …, expected …",
"EOF while parsing a value"); the line/column suffix is approximate (end of the document or
Python's error offset), since no client should depend on it.
"""
from __future__ import annotations

import json
from typing import Any

I64_MIN, I64_MAX = -(2**63), 2**63 - 1
U64_MAX = 2**64 - 1


class SerdeError(ValueError):
    """A decoding failure; `syntax` is True for malformed JSON (axum: 400, not 422)."""

    def __init__(self, message: str, *, syntax: bool = False, path: str = ""):
        super().__init__(message)
        self.message = message
        self.syntax = syntax
        self.path = path


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"Expecting value: {name}")


_SYNTAX_TEXTS = (
    ("Extra data", "trailing characters"),
    ("Expecting property name enclosed in double quotes", "key must be a string"),
    ("Expecting ':' delimiter", "expected `:`"),
    ("Expecting ',' delimiter", "expected `,` or `}`"),
    ("Unterminated string", "EOF while parsing a string"),
    ("Invalid control character", "control character (\\u0000-\\u001F) found while parsing a string"),
    ("Invalid \\escape", "invalid escape"),
)


def end_position(text: str) -> str:
    """' at line L column C' for the last character of the document."""
    stripped = text.rstrip()
    line = stripped.count("\n") + 1
    column = len(stripped) - (stripped.rfind("\n") + 1)
    return f" at line {line} column {column}"


def parse_json(body: bytes) -> tuple[Any, str]:
    """(value, text) of a JSON body, or SerdeError(syntax=True)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SerdeError(f"invalid unicode code point at line 1 column {error.start + 1}",
                         syntax=True) from None
    if not text.strip():
        raise SerdeError("EOF while parsing a value" + end_position(text), syntax=True)
    try:
        return json.loads(text, parse_constant=_refuse_constant), text
    except ValueError as error:
        raise SerdeError(_syntax_message(error, text), syntax=True) from None


def _syntax_message(error: ValueError, text: str) -> str:
    if not isinstance(error, json.JSONDecodeError):
        return "expected value" + end_position(text)
    if error.pos >= len(text.rstrip()):
        return "EOF while parsing a value" + end_position(text)
    for python_text, serde_text in _SYNTAX_TEXTS:
        if error.msg.startswith(python_text):
            return f"{serde_text} at line {error.lineno} column {error.colno}"
    return f"expected value at line {error.lineno} column {error.colno}"


def unexpected(value: Any) -> str:
    """serde's `Unexpected` rendering of a JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value!r}`"
    if isinstance(value, str):
        return f"string {json.dumps(value, ensure_ascii=False)}"
    if isinstance(value, list):
        return "sequence"
    return "map"


def invalid_type(value: Any, expected: str, path: str = "") -> SerdeError:
    return SerdeError(f"invalid type: {unexpected(value)}, expected {expected}", path=path)


def expect_str(value: Any, path: str, *, optional: bool = False) -> str | None:
    if isinstance(value, str) or (optional and value is None):
        return value
    raise invalid_type(value, "a string", path)


def expect_int(value: Any, path: str, *, low: int, high: int, expected: str) -> int:
    """An integer in [low, high]; bools and floats are type errors, as in serde."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_type(value, expected, path)
    if not low <= value <= high:
        if value > U64_MAX or value < I64_MIN:  # serde_json falls back to f64 here
            raise SerdeError(f"invalid type: floating point `{float(value)!r}`, expected {expected}",
                             path=path)
        raise SerdeError(f"invalid value: integer `{value}`, expected {expected}", path=path)
    return value


def expect_object(value: Any, struct: str) -> dict:
    if not isinstance(value, dict):
        raise invalid_type(value, f"struct {struct}")
    return value


# FluxEvent: field -> (required, kind); declaration order decides which missing field is named.
_EVENT_FIELDS = {
    "eventId": (False, "str"),
    "stream": (True, "str"),
    "source": (True, "str"),
    "timestamp": (True, "i64"),
    "key": (False, "str"),
    "schema": (False, "str"),
    "payload": (True, "any"),
}


def decode_event(value: Any, path: str = "") -> dict:
    """A FluxEvent envelope: known fields only, unknown ones dropped (§7.1)."""
    raw = expect_object(value, "FluxEvent")
    event: dict[str, Any] = {"eventId": None, "key": None, "schema": None}
    for name, field_value in raw.items():
        spec = _EVENT_FIELDS.get(name)
        if spec is None:
            continue
        field_path = f"{path}{name}"
        if spec[1] == "str":
            event[name] = expect_str(field_value, field_path, optional=not spec[0])
        elif spec[1] == "i64":
            event[name] = expect_int(field_value, field_path, low=I64_MIN, high=I64_MAX,
                                     expected="i64")
        else:
            event[name] = field_value
    for name, (required, _kind) in _EVENT_FIELDS.items():
        if required and name not in raw:
            raise SerdeError(f"missing field `{name}`", path=path.rstrip("."))
    return event


def decode_batch(value: Any) -> list[dict]:
    """A BatchRequest `{"events": [...]}`; one bad envelope fails the whole batch (§4.2)."""
    raw = expect_object(value, "BatchRequest")
    if "events" not in raw:
        raise SerdeError("missing field `events`")
    events = raw["events"]
    if not isinstance(events, list):
        raise invalid_type(events, "a sequence", "events")
    return [decode_event(item, f"events[{index}].") for index, item in enumerate(events)]


def with_position(error: SerdeError, text: str, *, with_path: bool = False) -> str:
    """The final message; axum's typed-JSON rejection also names the failing path."""
    message = error.message if error.syntax else error.message + end_position(text)
    if with_path and error.path:
        return f"{error.path}: {message}"
    return message
