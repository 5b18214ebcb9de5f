"""Parsing of ids and numbers that arrive in URLs, query strings and forms.

One place for a class of server errors: `"²".isdigit()` is true but `int("²")` fails, and an id
of 10**30 overflows the database's 64-bit integer. Everything here answers None for what it cannot
use, so a view turns it into a 400/404 or a form error instead of a 500.
"""
from __future__ import annotations

import re

from django.urls import register_converter

MAX_ID = 2**63 - 1  # the largest value of a 64-bit signed integer column (BigAutoField)
_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")
_ASCII_INT = re.compile(r"[+-]?[0-9]{1,30}")


def parse_id(text) -> int | None:
    """A database id (1 … 2**63-1) written in ASCII digits, or None."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text if 1 <= text <= MAX_ID else None
    if not isinstance(text, str) or not _ASCII_DIGITS.fullmatch(text.strip()):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def parse_int(text, *, minimum: int, maximum: int) -> int | None:
    """An integer in [minimum, maximum] written in ASCII digits (optional sign), or None."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    elif isinstance(text, str) and _ASCII_INT.fullmatch(text.strip()):
        value = int(text)
    else:
        return None
    return value if minimum <= value <= maximum else None


class IdConverter:
    """`<id:pk>`: like `<int:pk>` but bounded to the database's range, so a huge id is a 404."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        parsed = parse_id(value)
        if parsed is None:
            raise ValueError(value)  # no match: the resolver answers 404
        return parsed

    def to_url(self, value) -> str:
        return str(int(value))


register_converter(IdConverter, "id")
