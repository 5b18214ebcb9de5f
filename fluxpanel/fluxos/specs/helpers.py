"""FluxOS's small coercion and port helpers, as the formatter, validator and pricing use them.

Reproduces `serviceHelper.ensureBoolean/ensureNumber/ensureObject/ensureString/isDecimalLimit` and
`fluxNetworkHelper.isPortBanned/isPortEnterprise`, on values in the `jsjson` value model; and the
property reads of the validator with the TypeErrors JavaScript throws on null/undefined.
"""

from __future__ import annotations

from typing import Any

from .. import fluxconfig
from ..jsjson import (
    UNDEFINED,
    get,
    is_number,
    js_ge,
    js_le,
    js_len,
    js_to_string,
    js_truthy,
    js_typeof,
    json_parse,
    json_stringify,
    strict_equals,
    to_number,
)
from .errors import validator_error


def ensure_boolean(value: Any) -> Any:
    """serviceHelper.ensureBoolean: 'true'/1/'1'/true -> True, 'false'/0/'0'/false -> False, else undefined."""
    if value == "false" or value == "0" or value is False or (is_number(value) and value == 0):
        return False
    if value == "true" or value == "1" or value is True or (is_number(value) and value == 1):
        return True
    return UNDEFINED


def ensure_number(value: Any) -> Any:
    """serviceHelper.ensureNumber is plain `Number(value)`: 'abc' gives NaN, null gives 0."""
    return to_number(value)


def ensure_string(value: Any) -> Any:
    """serviceHelper.ensureString: strings as they are, anything else JSON.stringify'd (undefined stays undefined)."""
    return value if isinstance(value, str) else json_stringify(value)


def ensure_object(value: Any) -> Any:
    """serviceHelper.ensureObject: objects/arrays/null as they are, JSON text parsed, anything else {}.

    Text that is not JSON goes through `qs.parse`, which always yields a plain (non-array) object;
    every FluxOS caller only asks whether the result is an array, so {} stands in for it.
    """
    if js_typeof(value) == "object":
        return value
    if not js_truthy(value):
        return {}
    if not isinstance(value, str):
        return {}  # JSON.parse(String(5)) / JSON.parse('true') are not objects
    try:
        parsed = json_parse(value)
    except (ValueError, RecursionError):
        return {}
    return parsed if js_typeof(parsed) == "object" else {}


def is_decimal_limit(value: Any, decimals: int = 8) -> bool:
    """serviceHelper.isDecimalLimit: Number(value) is not NaN and its text has <= decimals after '.'.

    The text is `ensureString(value)`, i.e. JSON.stringify for numbers, so 1e-7 ("1e-7") passes
    and Infinity ("null") passes too.
    """
    number = to_number(value)
    if number != number:  # NaN
        return False
    text = ensure_string(value)
    parts = text.split(".")
    decimal_part = parts[1] if len(parts) > 1 else ""
    return js_len(decimal_part) <= decimals


def _port_in(port: Any, ports: tuple) -> bool:
    number = to_number(port)
    for entry in ports:
        if isinstance(entry, str):
            low, _, high = entry.partition("-")
            if js_ge(number, to_number(low)) and js_le(number, to_number(high)):
                return True
        elif strict_equals(entry, number):
            return True
    return False


def is_port_banned(port: Any) -> bool:
    """fluxNetworkHelper.isPortBanned against config.fluxapps.bannedPorts."""
    return _port_in(port, fluxconfig.BANNED_PORTS)


def is_port_enterprise(port: Any) -> bool:
    """fluxNetworkHelper.isPortEnterprise against config.fluxapps.enterprisePorts."""
    return _port_in(port, fluxconfig.ENTERPRISE_PORTS)


TIER_FIELDS = ("cpubasic", "cpusuper", "cpubamf", "rambasic", "ramsuper", "rambamf", "hddbasic", "hddsuper", "hddbamf")


def js_length(value: Any, field: str | None = None) -> Any:
    """`value.length` with JS semantics (undefined for numbers, TypeError for null/undefined)."""
    if value is None or value is UNDEFINED:
        raise validator_error(f"Cannot read properties of {js_to_string(value)} (reading 'length')", field)
    if isinstance(value, str):
        return js_len(value)
    if isinstance(value, list):
        return len(value)
    return get(value, "length")


def js_prop(obj: Any, key: str, field: str | None = None) -> Any:
    """`obj.key` with the TypeError JS throws when obj is null or undefined."""
    if obj is None or obj is UNDEFINED:
        raise validator_error(f"Cannot read properties of {js_to_string(obj)} (reading '{key}')", field)
    return get(obj, key)


def is_string_array(value: Any) -> bool:
    """`Array.isArray(value)` and every element `typeof 'string'`."""
    return isinstance(value, list) and all(isinstance(item, str) for item in value)
