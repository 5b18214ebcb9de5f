"""JavaScript value semantics that FluxOS's spec, price and message code relies on.

FluxOS signs and hashes `JSON.stringify(spec)` and coerces user input with `Number()`,
`JSON.stringify()` and JavaScript truthiness, so a Python port has to reproduce those exactly:

* `json_stringify` is byte-identical to `JSON.stringify`: no spaces, integral numbers without
  `.0`, JS shortest number form (`1e-7`, `1e+21`), NaN/Infinity as `null`, non-ASCII, `/`, `<`, `>`
  and `&` written raw, lone surrogates as `\\udxxx`, integer-like keys first (JS property order).
* `js_number_to_string` is `Number.prototype.toString()` (also what a template literal prints).
* `to_number` is `Number(x)`; `js_to_string` is `String(x)`; `json_parse` is `JSON.parse`.
* `to_fixed` is `Number.prototype.toFixed` (round half up on the exact binary value, not Python's
  round-half-even), `js_ceil` is `Math.ceil` (keeps NaN/Infinity instead of raising).

Python values stand for JS values like this: `str`, `bool`, `None` (null), `list`, `dict`, numbers
as `int` when integral and exactly representable (|x| <= 2**53) else `float` (NaN and +-Infinity
included), and the `UNDEFINED` sentinel for a missing property. `to_js_value` converts arbitrary
Python input into that form so that `True` is never mistaken for the number 1.
"""

from __future__ import annotations

import json
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from numbers import Real
from typing import Any


class _Undefined:
    """The JavaScript `undefined` value (a missing property or an unset variable)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Any = _Undefined()

MAX_SAFE_INTEGER = 2**53

# WhiteSpace and LineTerminator code points of ECMAScript: what `Number(" 5 ")` trims and `/\s/`
# matches. Python's str.isspace() differs (it has \x1c-\x1f, lacks \ufeff).
JS_WHITESPACE = "\t\n\x0b\x0c\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
JS_WHITESPACE_CLASS = "[" + re.escape(JS_WHITESPACE) + "]"

_DECIMAL_LITERAL = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)", re.ASCII)
_INDEX_KEY = re.compile(r"0|[1-9][0-9]*", re.ASCII)


# --- types, truthiness, conversion of Python input ---------------------------------------------


def is_number(value: Any) -> bool:
    """`typeof value === 'number'` (a Python bool is not a number here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def js_typeof(value: Any) -> str:
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"  # null, arrays and objects


def js_truthy(value: Any) -> bool:
    """JavaScript truthiness: undefined, null, false, 0, -0, NaN and '' are falsy; [] and {} are not."""
    if value is UNDEFINED or value is None:
        return False
    if isinstance(value, bool):
        return value
    if is_number(value):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    return True


def js_number(value: float | int) -> int | float:
    """The canonical Python form of a JS number: int when integral and exact, else float."""
    if isinstance(value, int) and not isinstance(value, bool):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return value
        value = _int_to_float(value)
    value = float(value)
    if math.isfinite(value) and value == math.floor(value) and abs(value) <= MAX_SAFE_INTEGER:
        return int(value)  # also turns -0.0 into 0, which JSON.stringify and String() print as 0
    return value


def _int_to_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def to_js_value(value: Any) -> Any:
    """Deep-convert Python input to the JS value model (see module docstring)."""
    if value is UNDEFINED or value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return js_number(value)
    if isinstance(value, dict):
        return js_object((js_key(k), to_js_value(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [to_js_value(v) for v in value]
    if isinstance(value, Real):
        return js_number(float(value))
    return str(value)


def js_key(key: Any) -> str:
    """A property key as JS sees it: always a string."""
    return key if isinstance(key, str) else js_to_string(to_js_value(key))


def js_object(pairs) -> dict:
    """Build a dict whose iteration order is JS property order: array-index keys first, ascending."""
    items = list(dict(pairs).items())
    index_keys = sorted(
        ((k, v) for k, v in items if _is_array_index(k)), key=lambda kv: int(kv[0])
    )
    if not index_keys:
        return dict(items)
    other = [(k, v) for k, v in items if not _is_array_index(k)]
    return dict(index_keys + other)


def _is_array_index(key: str) -> bool:
    return bool(_INDEX_KEY.fullmatch(key)) and int(key) < 2**32 - 1


def get(obj: Any, key: str) -> Any:
    """`obj[key]` for an object that is known not to be null/undefined (else UNDEFINED)."""
    if isinstance(obj, dict):
        return obj.get(key, UNDEFINED)
    return UNDEFINED


def js_len(text: str) -> int:
    """`text.length`: UTF-16 code units, so an emoji counts 2."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# --- String() / Number() -------------------------------------------------------------------------


def js_number_to_string(value: float | int) -> str:
    """`Number.prototype.toString()` (ECMAScript Number::toString, radix 10)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) <= MAX_SAFE_INTEGER:
            return str(value)
        value = _int_to_float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    if value < 0:
        return "-" + js_number_to_string(-value)
    digits, point = _shortest_digits(value)
    k, n = len(digits), point
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    exponent = n - 1
    sign = "+" if exponent >= 0 else "-"
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{mantissa}e{sign}{abs(exponent)}"


def _shortest_digits(value: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of a positive finite float and the decimal point position.

    Python's repr() picks the same shortest (and, among those, nearest) digits as V8.
    Returns (digits, n) with value == 0.digits * 10**n.
    """
    text = repr(value)
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exponent) if exponent else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    return stripped.rstrip("0") or "0", point


def js_to_string(value: Any) -> str:
    """`String(value)` (also what `${value}` prints)."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_number(value):
        return js_number_to_string(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return _array_join(value)
    return "[object Object]"


def _array_join(items: list) -> str:
    return ",".join("" if v is None or v is UNDEFINED else js_to_string(v) for v in items)


def to_primitive(value: Any) -> Any:
    """ToPrimitive with the default hint: arrays join, plain objects become "[object Object]"."""
    if isinstance(value, list):
        return _array_join(value)
    if isinstance(value, dict):
        return "[object Object]"
    return value


def to_number(value: Any) -> int | float:
    """`Number(value)` (also unary `+value`)."""
    if value is UNDEFINED:
        return math.nan
    if value is None:
        return 0
    if isinstance(value, bool):
        return 1 if value else 0
    if is_number(value):
        return value
    if isinstance(value, str):
        return string_to_number(value)
    primitive = to_primitive(value)
    return string_to_number(primitive)


def string_to_number(text: str) -> int | float:
    """StringToNumber: trims JS whitespace; '' is 0; accepts 0x/0o/0b, Infinity, '.5', '5.'."""
    text = text.strip(JS_WHITESPACE)
    if text == "":
        return 0
    if text in ("Infinity", "+Infinity"):
        return math.inf
    if text == "-Infinity":
        return -math.inf
    for prefix, base, pattern in (("0x", 16, "[0-9a-fA-F]+"), ("0o", 8, "[0-7]+"), ("0b", 2, "[01]+")):
        if text[:2].lower() == prefix and re.fullmatch(pattern, text[2:], re.ASCII):
            return js_number(int(text[2:], base))
    if _DECIMAL_LITERAL.fullmatch(text):
        return js_number(float(text))
    return math.nan


def is_integer(value: Any) -> bool:
    """`Number.isInteger(value)`."""
    return is_number(value) and math.isfinite(value) and value == math.floor(value)


def strict_equals(a: Any, b: Any) -> bool:
    """`a === b` for primitives (objects compare by identity)."""
    if is_number(a) and is_number(b):
        return a == b  # NaN != NaN, 0 == -0, as in JS
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if a is None or a is UNDEFINED or b is None or b is UNDEFINED:
        return a is b
    return a is b


# --- arithmetic and comparison -------------------------------------------------------------------


def js_add(a: Any, b: Any) -> Any:
    """`a + b`: string concatenation as soon as either primitive is a string."""
    left, right = to_primitive(a), to_primitive(b)
    if isinstance(left, str) or isinstance(right, str):
        return js_to_string(left) + js_to_string(right)
    return js_number(float(to_number(left)) + float(to_number(right)))


def js_mul(a: Any, b: Any) -> int | float:
    return js_number(float(to_number(a)) * float(to_number(b)))


def js_div(a: Any, b: Any) -> int | float:
    x, y = float(to_number(a)), float(to_number(b))
    if y == 0:
        if math.isnan(x) or x == 0:
            return math.nan
        negative = (x < 0) != (math.copysign(1.0, y) < 0)
        return -math.inf if negative else math.inf
    return js_number(x / y)


def js_mod(a: Any, b: Any) -> int | float:
    """`a % b` (sign of the dividend, like C fmod; NaN for x % 0 and Infinity % y)."""
    x, y = float(to_number(a)), float(to_number(b))
    if math.isnan(x) or math.isnan(y) or math.isinf(x) or y == 0:
        return math.nan
    if math.isinf(y) or x == 0:
        return js_number(x)
    return js_number(math.fmod(x, y))


def js_ceil(value: float | int) -> int | float:
    """`Math.ceil` that keeps NaN and Infinity instead of raising like math.ceil."""
    value = float(value)
    if not math.isfinite(value):
        return value
    return js_number(float(math.ceil(value)))


def _compare(a: Any, b: Any) -> int | None:
    """Abstract relational comparison: -1, 0, 1, or None when NaN is involved."""
    left, right = to_primitive(a), to_primitive(b)
    if isinstance(left, str) and isinstance(right, str):
        lu = left.encode("utf-16-be", "surrogatepass")
        ru = right.encode("utf-16-be", "surrogatepass")
        return (lu > ru) - (lu < ru)
    x, y = to_number(left), to_number(right)
    if math.isnan(x) or math.isnan(y):
        return None
    return (x > y) - (x < y)


def js_lt(a: Any, b: Any) -> bool:
    result = _compare(a, b)
    return result is not None and result < 0


def js_gt(a: Any, b: Any) -> bool:
    result = _compare(a, b)
    return result is not None and result > 0


def js_le(a: Any, b: Any) -> bool:
    result = _compare(a, b)
    return result is not None and result <= 0


def js_ge(a: Any, b: Any) -> bool:
    result = _compare(a, b)
    return result is not None and result >= 0


def to_fixed(value: Any, digits: int = 2) -> str:
    """`Number(value).toFixed(digits)`: half-up rounding of the exact binary value."""
    number = to_number(value)
    if isinstance(number, float) and math.isnan(number):
        return "NaN"
    if abs(number) >= 1e21:
        return js_to_string(number)
    if number == 0:
        number = 0  # (-0).toFixed() has no minus sign
    quantum = Decimal(1).scaleb(-digits)
    return str(Decimal(number).quantize(quantum, rounding=ROUND_HALF_UP))


# --- JSON ----------------------------------------------------------------------------------------


def json_stringify(value: Any) -> Any:
    """`JSON.stringify(value)`; UNDEFINED when JS would return undefined."""
    if value is UNDEFINED:
        return UNDEFINED
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if value is None or value is UNDEFINED:
        out.append("null")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif is_number(value) or isinstance(value, Real):
        number = value if is_number(value) else float(value)
        finite = not (isinstance(number, float) and not math.isfinite(number))
        out.append(js_number_to_string(number) if finite else "null")
    elif isinstance(value, str):
        out.append(quote_json_string(value))
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)  # undefined inside arrays becomes null
        out.append("]")
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for key, item in js_object((js_key(k), v) for k, v in value.items()).items():
            if item is UNDEFINED:
                continue  # undefined properties are left out
            if not first:
                out.append(",")
            first = False
            out.append(quote_json_string(key))
            out.append(":")
            _write(item, out)
        out.append("}")
    else:
        out.append(quote_json_string(str(value)))


_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote_json_string(text: str) -> str:
    """QuoteJSONString of ES2019+: escapes only ", \\, control characters and lone surrogates."""
    out = ['"']
    index, size = 0, len(text)
    while index < size:
        char = text[index]
        code = ord(char)
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDBFF and index + 1 < size and 0xDC00 <= ord(text[index + 1]) <= 0xDFFF:
            # A surrogate pair held as two Python code points is one character in JS.
            low = ord(text[index + 1])
            out.append(chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)))
            index += 1
        elif 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
        index += 1
    out.append('"')
    return "".join(out)


def _reject_constant(name: str):
    raise ValueError(f"Unexpected token {name[0]} in JSON")


def json_parse(text: str) -> Any:
    """`JSON.parse(text)` into the JS value model; raises ValueError where JS throws SyntaxError."""
    return json.loads(
        text,
        parse_float=lambda s: js_number(float(s)),
        parse_int=lambda s: js_number(float(s)),
        parse_constant=_reject_constant,  # NaN / Infinity are not JSON
        object_pairs_hook=js_object,
    )
