"""`appValidator.verifyTypeCorrectnessOfApp`: the first stage of the validator.

On the formatter's output these checks mostly pass; on a raw spec ("verify only") they report what
the formatter would have coerced (numbers given as strings, booleans as "true", arrays as JSON text).
"""

from __future__ import annotations

from typing import Any

from .. import fluxconfig
from ..jsjson import (
    UNDEFINED,
    get,
    is_integer,
    js_ge,
    js_gt,
    js_le,
    js_truthy,
    js_typeof,
    strict_equals,
)
from .errors import validator_error as _fail
from .helpers import TIER_FIELDS, is_decimal_limit, is_string_array, js_length, js_prop


def check_types(spec: dict, enterprise_owners: tuple[str, ...] | None = None) -> None:
    if enterprise_owners is None:
        enterprise_owners = fluxconfig.ENTERPRISE_APP_OWNERS
    version = get(spec, "version")
    if not js_truthy(version):
        raise _fail("Missing Flux App specification parameter version", "version")
    for key in ("name", "description", "owner"):
        if not js_truthy(get(spec, key)):
            raise _fail("Missing Flux App specification parameter name and/or description and/or owner", key)
    if js_typeof(version) != "number":
        raise _fail("Invalid Flux App version", "version")
    if not is_decimal_limit(version):
        raise _fail("Invalid Flux App version decimals", "version")
    for key in ("name", "description", "owner"):
        if not isinstance(get(spec, key), str):
            raise _fail(f"Invalid Flux App {key}", key)

    if strict_equals(version, 1):
        for key in ("port", "containerPort"):
            if not js_truthy(get(spec, key)):
                raise _fail("Missing Flux App specification parameter port and/or containerPort", key)
    elif js_ge(version, 2) and js_le(version, 3):
        for key in ("ports", "domains", "containerPorts"):
            if not js_truthy(get(spec, key)):
                raise _fail("Missing Flux App specification parameter port and/or containerPort and/or domains", key)

    if strict_equals(version, 1):
        _check_types_v1(spec)
    elif js_le(version, 3):
        _check_types_v2_v3(spec)
    elif js_le(version, 7):
        _check_compose_types(spec, version)
    else:
        enterprise = get(spec, "enterprise")
        if enterprise is None or enterprise is UNDEFINED:
            raise _fail("Missing enterprise property", "enterprise")
        nodes = get(spec, "nodes")
        if not js_truthy(enterprise) and js_truthy(nodes) and js_gt(js_length(nodes), 0):
            raise _fail("Nodes can only be used in enterprise apps", "nodes")
        _check_compose_types(spec, version)

    if js_ge(version, 3):
        instances = get(spec, "instances")
        if not js_truthy(instances):
            raise _fail("Missing Flux App specification parameter instances", "instances")
        if js_typeof(instances) != "number":
            raise _fail("Invalid instances specification", "instances")
        if not is_integer(instances) or not is_decimal_limit(instances, 0):
            raise _fail("Invalid instances specified", "instances")
    if js_ge(version, 5):
        if not is_string_array(get(spec, "contacts")):
            raise _fail("Contacts for Flux App are invalid", "contacts")
        if not is_string_array(get(spec, "geolocation")):
            raise _fail("Geolocation for Flux App are invalid", "geolocation")
    if js_ge(version, 6):
        expire = get(spec, "expire")
        if not js_truthy(expire):
            raise _fail("Missing Flux App specification parameter expire", "expire")
        if js_typeof(expire) != "number":
            raise _fail("Invalid expire specification", "expire")
        if not is_integer(expire) or not is_decimal_limit(expire, 0):
            raise _fail("Invalid expire specified", "expire")
    if js_ge(version, 7):
        nodes = get(spec, "nodes")
        if not js_truthy(nodes):
            raise _fail("Missing Flux App specification parameter nodes", "nodes")
        if not is_string_array(nodes):
            raise _fail("Nodes for Flux App are invalid", "nodes")
        if js_typeof(get(spec, "staticip")) != "boolean":
            raise _fail("Invalid static ip value obtained. Only boolean as true or false allowed.", "staticip")
    if js_ge(version, 8):
        _check_datacenter(spec, enterprise_owners)


def _check_datacenter(spec: dict, enterprise_owners: tuple[str, ...]) -> None:
    """The v8 `datacenter` rules, the last of FluxOS's type checks (before any restriction check).

    Absent is fine; present it must be a real boolean (null, "true", 1 ... are refused here, while
    the formatter turns them into true/false/absent first); `true` (strictly) needs an enterprise
    app owner.
    """
    datacenter = get(spec, "datacenter")
    if datacenter is not UNDEFINED and js_typeof(datacenter) != "boolean":
        raise _fail("Invalid datacenter value obtained. Only undefined, true, or false allowed.", "datacenter")
    if datacenter is True and get(spec, "owner") not in enterprise_owners:
        raise _fail("Datacenter requirement is only available for enterprise app owners.", "datacenter")


def _check_hw_types(obj: dict, prefix: str = "") -> None:
    if js_typeof(get(obj, "tiered")) != "boolean":
        raise _fail("Invalid tiered value obtained. Only boolean as true or false allowed.", prefix + "tiered")
    for key in ("cpu", "ram", "hdd"):
        if js_typeof(get(obj, key)) != "number":
            raise _fail("Invalid HW specifications", prefix + key)
    for key in ("cpu", "ram", "hdd"):
        if not is_decimal_limit(get(obj, key)):
            raise _fail("Invalid HW specifications decimal limits", prefix + key)
    if js_truthy(get(obj, "tiered")):
        _check_tier_types(obj, prefix)


def _check_tier_types(obj: dict, prefix: str) -> None:
    for key in TIER_FIELDS:
        if js_typeof(get(obj, key)) != "number":
            raise _fail("Invalid tiered HW specifications", prefix + key)
    for key in TIER_FIELDS:
        if not is_decimal_limit(get(obj, key)):
            raise _fail("Invalid tiered HW specifications", prefix + key)


def _check_v1_v3_required(spec: dict) -> None:
    for key in ("repotag", "enviromentParameters", "commands", "containerData", "cpu", "ram", "hdd"):
        if not js_truthy(get(spec, key)):
            raise _fail(
                "Missing Flux App specification parameter repotag and/or enviromentParameters and/or commands "
                "and/or containerData and/or cpu and/or ram and/or hdd",
                key,
            )


def _check_env_and_commands(spec: dict) -> None:
    if not is_string_array(get(spec, "enviromentParameters")):
        raise _fail("Environmental parameters for Flux App are invalid", "enviromentParameters")
    if not is_string_array(get(spec, "commands")):
        raise _fail("Flux App commands are invalid", "commands")


def _check_types_v1(spec: dict) -> None:
    _check_v1_v3_required(spec)
    port = get(spec, "port")
    if js_typeof(port) != "number":
        raise _fail("Port for Flux App is invalid", "port")
    if not is_decimal_limit(port, 0):
        raise _fail("Ports for Flux App are invalid decimals", "port")
    _check_env_and_commands(spec)
    container_port = get(spec, "containerPort")
    if js_typeof(container_port) != "number":
        raise _fail("Container Port for Flux App is invalid", "containerPort")
    if not is_decimal_limit(container_port, 0):
        raise _fail("Ports for Flux App are invalid decimals", "containerPort")
    _check_hw_types(spec)


def _check_types_v2_v3(spec: dict) -> None:
    _check_v1_v3_required(spec)
    ports = get(spec, "ports")
    if not isinstance(ports, list):
        raise _fail("Ports for Flux App are invalid", "ports")
    for port in ports:
        if not isinstance(port, str):
            raise _fail("Port of Flux App is invalid", "ports")
        if not is_decimal_limit(port, 0):
            raise _fail("Ports for Flux App are invalid decimals", "ports")
    if not is_string_array(get(spec, "domains")):
        raise _fail("Domains for Flux App are invalid", "domains")
    _check_env_and_commands(spec)
    container_ports = get(spec, "containerPorts")
    if not isinstance(container_ports, list):
        raise _fail("Container Ports for Flux App are invalid", "containerPorts")
    for port in container_ports:
        if not isinstance(port, str):
            raise _fail("Container Port of Flux App is invalid", "containerPorts")
        if not is_decimal_limit(port, 0):
            raise _fail("Container Ports for Flux App are invalid decimals", "containerPorts")
    _check_hw_types(spec)


def _check_number_array(value: Any, label: str, what: str, field: str) -> None:
    if not isinstance(value, list):
        raise _fail(f"{what} for Flux App component {label} are invalid", field)
    for item in value:
        if js_typeof(item) != "number":
            raise _fail(f"{what} for Flux App component {label} are invalid", field)
        if not is_decimal_limit(item, 0):
            raise _fail(f"{what} for Flux App component {label} are invalid decimals", field)


def _check_compose_types(spec: dict, version: Any) -> None:
    compose = get(spec, "compose")
    if not js_truthy(compose):
        raise _fail("Missing Flux App specification parameter compose", "compose")
    if js_typeof(compose) != "object" or not isinstance(compose, list):
        raise _fail("Invalid Flux App Specifications", "compose")
    for index, component in enumerate(compose):
        prefix = f"compose[{index}]."
        if isinstance(component, list):
            raise _fail("Invalid Flux App Specifications", f"compose[{index}]")
        name = js_prop(component, "name", f"compose[{index}]")
        if not isinstance(name, str):
            raise _fail("Invalid Flux App component name", prefix + "name")
        label = name
        if not isinstance(get(component, "description"), str):
            raise _fail(f"Invalid Flux App component {label} description", prefix + "description")
        _check_number_array(get(component, "ports"), label, "Ports", prefix + "ports")
        if not is_string_array(get(component, "domains")):
            raise _fail(f"Domains for Flux App component {label} are invalid", prefix + "domains")
        if not is_string_array(get(component, "environmentParameters")):
            raise _fail(
                f"Environment parameters for Flux App component {label} are invalid", prefix + "environmentParameters"
            )
        if not is_string_array(get(component, "commands")):
            raise _fail(f"Flux App component {label} commands are invalid", prefix + "commands")
        _check_number_array(get(component, "containerPorts"), label, "Container Ports", prefix + "containerPorts")

        if js_le(version, 7):
            _check_hw_types(component, prefix)
            if strict_equals(version, 7):
                if not isinstance(get(component, "secrets"), str):
                    raise _fail(f"Secrets for Flux App component {label} are invalid", prefix + "secrets")
                if not isinstance(get(component, "repoauth"), str):
                    raise _fail(f"Repository Authentication for Flux App component {label} are invalid", prefix + "repoauth")
        else:
            for key in ("cpu", "ram", "hdd"):
                if js_typeof(get(component, key)) != "number":
                    raise _fail("Invalid HW specifications", prefix + key)
            for key in ("cpu", "ram", "hdd"):
                if not is_decimal_limit(get(component, key)):
                    raise _fail("Invalid HW specifications decimal limits", prefix + key)
            if not isinstance(get(component, "repoauth"), str):
                raise _fail(f"Repository Authentication for Flux App component {label} are invalid", prefix + "repoauth")
