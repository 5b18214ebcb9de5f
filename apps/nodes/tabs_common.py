"""What every live tab of the node page shares: bounded display values from an untrusted node.

A node's answer is reduced to short strings and bounded lists before a template sees it: an
answer of the wrong shape (a number where a list belongs, a nested object, a huge string) shows
as "–", a note, or the tab's error, never a server error.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from apps.nodes.probe import Garbage, column_int
from fluxpanel.fluxos.client import BadResponse, FluxError

MAX_ROWS = 200
TEXT_MAX = 200
DASH = "–"


def text(value) -> str:
    if value is None or value == "":
        return DASH
    if isinstance(value, (dict, list, tuple)):
        return "…"  # structured values are not shown inline
    return str(value)[:TEXT_MAX]


def rows(value) -> list:
    return value[:MAX_ROWS] if isinstance(value, list) else []


def mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def number(read, what: str) -> str:
    """One numeric read-out; a node's non-number becomes a note instead of an exception."""
    try:
        value = column_int(read(), what)
    except BadResponse as exc:  # the client's own shape check
        return exc.message[:TEXT_MAX]
    except (Garbage, ValueError, TypeError, OverflowError):
        return f"{what} is not a number"
    return DASH if value is None else str(value)


def whole(value) -> int | None:
    """A whole number a node sent inside an object, or None (garbage is not a figure)."""
    try:
        return column_int(value, "value")
    except (Garbage, ValueError, TypeError, OverflowError):
        return None


def figure(value) -> float | None:
    """A finite, non-negative measurement (benchmarks send floats), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip()) if len(value) <= 20 else None
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value) and 0 <= value < 1e15:
        return float(value)
    return None


def shaped(read, empty):
    """One read whose answer has the wrong shape shows as empty; a node that does not answer at
    all still ends the tab (one timeout, not one per field)."""
    try:
        return read()
    except BadResponse:
        return empty


def optional(read, empty):
    """A secondary read: a wrong shape or FluxOS's own error envelope (the node answered, that
    part of it did not) shows as empty instead of ending the tab."""
    try:
        return read()
    except (BadResponse, FluxError):
        return empty


@dataclass
class Check:
    """One figure against what FluxOS needs: `ok` None when there is nothing to compare with."""

    label: str
    value: str
    needed: str
    ok: bool | None
    note: str = ""

    @property
    def verdict(self) -> str:
        return {True: "pass", False: "fail", None: "no minimum"}[self.ok]
