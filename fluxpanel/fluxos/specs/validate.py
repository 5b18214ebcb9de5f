"""The pure part of FluxOS `appValidator.verifyAppSpecifications(spec, height, false)`.

Check order (the first failure wins, as in FluxOS): type checks (`verifyTypeCorrectnessOfApp`, which
also holds the v8 `datacenter` rules) -> restriction checks (`verifyRestrictionCorrectnessOfApp`) ->
"version not yet supported at this height" -> allowed keys (`verifyObjectKeysCorrectnessOfApp`) ->
unique ports (`portManager.ensureAppUniquePorts`) -> hardware (`checkHWParameters` for v1-3,
`checkComposeHWParameters` for v4+). The Docker/registry stage (`checkDockerAndWhitelist`) needs
the network and is not part of this package.

Works on any dict: normally the formatter's output, but also a raw spec (FluxOS's "verify only"
behaviour) - then the type checks report what the formatter would have coerced. JavaScript
semantics are kept throughout (`x.length` of a non-string, `undefined > 200` being false, string
concatenation in `+=`), including the TypeErrors FluxOS itself would throw on null components or a
missing v4+ `repotag`/`containerData` ("Cannot read properties of undefined (reading 'length')").
"""

from __future__ import annotations

from typing import Any

from .. import fluxconfig
from ..jsjson import (
    get,
    js_le,
    js_lt,
    js_to_string,
    js_truthy,
    js_typeof,
    strict_equals,
    to_js_value,
)
from .errors import validator_error as _fail
from .hardware_checks import check_compose_hw_parameters, check_hw_parameters
from .key_checks import check_allowed_keys
from .restriction_checks import check_restrictions
from .type_checks import check_types


def validate_spec(
    spec: Any, height: int, *, enterprise_owners: tuple[str, ...] | list[str] | None = None
) -> None:
    """Raise SpecError exactly where `verifyAppSpecifications(spec, height, false)` throws.

    `enterprise_owners` are the owners allowed `datacenter: true` (FluxOS: the union of the owners
    in helpers/enterprisenodes.json, see `fluxconfig.enterprise_app_owners`); default: the list
    at the vectors' commit.
    """
    spec = to_js_value(spec)
    if not js_truthy(spec) or js_typeof(spec) != "object" or isinstance(spec, list):
        raise _fail("Invalid Flux App Specifications")
    owners = fluxconfig.ENTERPRISE_APP_OWNERS if enterprise_owners is None else tuple(enterprise_owners)

    check_types(spec, owners)
    check_restrictions(spec, height)
    version = get(spec, "version")
    if js_lt(height, fluxconfig.APP_SPECS_ENFORCEMENT_HEIGHTS[version]):
        raise _fail(f"Flux apps specifications of version {js_to_string(version)} not yet supported", "version")
    check_allowed_keys(spec)
    check_unique_ports(spec)
    if js_le(version, 3):
        check_hw_parameters(spec)
    else:
        check_compose_hw_parameters(spec)


# --- portManager.ensureAppUniquePorts ------------------------------------------------------------

def _same_value_zero_key(value: Any) -> Any:
    """A hashable key with `new Set()` semantics: NaN equals NaN, 1 and "1" differ."""
    if isinstance(value, float) and value != value:
        return ("nan",)
    return (js_typeof(value), value if not isinstance(value, (list, dict)) else id(value))


def check_unique_ports(spec: dict) -> None:
    version = get(spec, "version")
    if strict_equals(version, 1):
        return
    if js_le(version, 3):
        ports = get(spec, "ports")
        if len({_same_value_zero_key(p) for p in ports}) != len(ports):
            raise _fail(f"Flux App {js_to_string(get(spec, 'name'))} must have unique ports specified", "ports")
        return
    all_ports: list = []
    for component in get(spec, "compose") or []:
        ports = get(component, "ports")
        if js_truthy(ports):
            all_ports.extend(ports)
    if len({_same_value_zero_key(p) for p in all_ports}) != len(all_ports):
        raise _fail(
            f"Flux App {js_to_string(get(spec, 'name'))} must have unique ports specified accross all composition",
            "compose",
        )
