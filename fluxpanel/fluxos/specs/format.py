"""FluxOS `appUtilities.specificationFormatter`: coerce a submitted spec into canonical form.

The output's key order is the order FluxOS signs (`JSON.stringify` of it is the signed message), so
the dicts built here are filled in exactly that order. Unknown keys are dropped silently, which is
why the allowed-keys check of the validator never sees them after formatting.

Deliberately reproduced quirks:
* strings are coerced with `ensureString` (JSON.stringify for non-strings: 12345 -> "12345",
  null -> "null"); a missing string field stays undefined and is left out of the JSON;
* numbers are coerced with `Number()` ("abc" -> NaN, written as null in JSON; "5" -> 5);
* v4+ `containerPorts` are *not* coerced: FluxOS builds a coerced copy and then discards it;
* a non-integer `expire` is reported as "Invalid instances specified";
* the formatter words problems differently from the validator ("Environmental parameters ...",
  "Geolocation for Flux App is invalid", "Invalid staticip specification ...");
* the v8 minimum instances here is 1 regardless of height (the validator adds the height rule);
* `expire` has no maximum here: only the validator limits it, by the height it is given (264000
  blocks before the PON fork, 1056000 after);
* a v8 `datacenter` the submitter sent goes through `ensureBoolean` and nothing else: "true"/1/"1"
  become true, "false"/0/"0" false, and any other value (null, "yes", 2, {}, []) becomes
  undefined, so it vanishes from the JSON and the validator never sees it. There is no formatter
  error for it (unlike `staticip`).
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
    js_lt,
    js_to_string,
    js_truthy,
    js_typeof,
    strict_equals,
    to_js_value,
)
from .errors import formatter_error as _fail
from .helpers import TIER_FIELDS, ensure_boolean, ensure_number, ensure_object, ensure_string


def _string_list(value: Any, message: str, field: str) -> list:
    """ensureObject then ensureString of every element; `message` when it is not an array."""
    value = ensure_object(value)
    if not isinstance(value, list):
        raise _fail(message, field)
    return [ensure_string(item) for item in value]


def _drop_undefined(obj: dict) -> dict:
    """Undefined properties vanish from JSON.stringify, so they are not kept in the result."""
    return {key: value for key, value in obj.items() if value is not UNDEFINED}


def format_spec(spec: Any) -> dict:
    """Reproduce `specificationFormatter(spec)`; raise SpecError with FluxOS's message."""
    spec = to_js_value(spec)
    if spec is None or spec is UNDEFINED:
        # `let { version, ... } = appSpecification` on null is a TypeError in Node.
        raise _fail(
            f"Cannot destructure property 'version' of 'appSpecification' as it is {js_to_string(spec)}."
        )

    version = get(spec, "version")
    if not js_truthy(version):
        raise _fail("Missing Flux App specification parameter version", "version")
    version = ensure_number(version)

    for key in ("name", "description", "owner"):
        if not js_truthy(get(spec, key)):
            raise _fail("Missing Flux App specification parameter name and/or description and/or owner", key)

    formatted: dict[str, Any] = {
        "version": version,
        "name": ensure_string(get(spec, "name")),
        "description": ensure_string(get(spec, "description")),
        "owner": ensure_string(get(spec, "owner")),
    }

    if strict_equals(version, 1):
        _format_v1(spec, formatted)
    elif js_le(version, 3):
        _format_v2_v3(spec, formatted)
    else:
        formatted["compose"] = _format_compose(spec, version)

    if js_ge(version, 3):
        formatted["instances"] = _format_instances(spec, version)
    if js_ge(version, 5):
        _format_contacts_geolocation(spec, formatted)
    if js_ge(version, 6):
        formatted["expire"] = _format_expire(spec)
    if js_ge(version, 7):
        _format_nodes_staticip(spec, formatted)
    if js_ge(version, 8):
        _format_v8_flags(spec, formatted)
    return _drop_undefined(formatted)


def _format_tiers(source: dict, target: dict, message: str, field_prefix: str) -> None:
    values = [get(source, key) for key in TIER_FIELDS]
    for key, value in zip(TIER_FIELDS, values, strict=True):
        if not js_truthy(value):
            raise _fail(message, field_prefix + key)
    for key, value in zip(TIER_FIELDS, values, strict=True):
        target[key] = ensure_number(value)


def _format_tiered_flag(value: Any, field: str) -> bool:
    tiered = ensure_boolean(value)
    if js_typeof(tiered) != "boolean":
        raise _fail("Invalid tiered value obtained. Only boolean as true or false allowed.", field)
    return tiered


def _format_v1(spec: dict, out: dict) -> None:
    required = ("repotag", "port", "enviromentParameters", "commands", "containerPort", "containerData", "cpu", "ram", "hdd")
    for key in required:
        if not js_truthy(get(spec, key)):
            raise _fail(
                "Missing Flux App specification parameter repotag and/or port and/or enviromentParameters "
                "and/or commands and/or containerData and/or cpu and/or ram and/or hdd",
                key,
            )
    repotag = ensure_string(get(spec, "repotag"))
    port = ensure_number(get(spec, "port"))
    container_port = ensure_number(get(spec, "containerPort"))
    env = _string_list(get(spec, "enviromentParameters"), "Environmental parameters for Flux App are invalid", "enviromentParameters")
    commands = _string_list(get(spec, "commands"), "Flux App commands are invalid", "commands")
    container_data = ensure_string(get(spec, "containerData"))
    cpu, ram, hdd = (ensure_number(get(spec, key)) for key in ("cpu", "ram", "hdd"))
    tiered = _format_tiered_flag(get(spec, "tiered"), "tiered")
    out.update(
        repotag=repotag, port=port, enviromentParameters=env, commands=commands, containerPort=container_port,
        containerData=container_data, cpu=cpu, ram=ram, hdd=hdd, tiered=tiered,
    )
    if tiered:
        _format_tiers(spec, out, "Flux App was requested as tiered setup but specifications are missing", "")


def _format_v2_v3(spec: dict, out: dict) -> None:
    required = ("repotag", "ports", "domains", "enviromentParameters", "commands", "containerPorts", "containerData", "cpu", "ram", "hdd")
    for key in required:
        if not js_truthy(get(spec, key)):
            raise _fail(
                "Missing Flux App specification parameter repotag and/or port and/or domains and/or "
                "enviromentParameters and/or commands and/or containerData and/or cpu and/or ram and/or hdd",
                key,
            )
    repotag = ensure_string(get(spec, "repotag"))
    ports = _string_list(get(spec, "ports"), "Ports for Flux App are invalid", "ports")  # v2/v3 ports are strings
    domains = _string_list(get(spec, "domains"), "Domains for Flux App are invalid", "domains")
    env = _string_list(get(spec, "enviromentParameters"), "Environmental parameters for Flux App are invalid", "enviromentParameters")
    commands = _string_list(get(spec, "commands"), "Flux App commands are invalid", "commands")
    container_ports = _string_list(get(spec, "containerPorts"), "Container Ports for Flux App are invalid", "containerPorts")
    container_data = ensure_string(get(spec, "containerData"))
    cpu, ram, hdd = (ensure_number(get(spec, key)) for key in ("cpu", "ram", "hdd"))
    tiered = _format_tiered_flag(get(spec, "tiered"), "tiered")
    out.update(
        repotag=repotag, ports=ports, domains=domains, enviromentParameters=env, commands=commands,
        containerPorts=container_ports, containerData=container_data, cpu=cpu, ram=ram, hdd=hdd, tiered=tiered,
    )
    if tiered:
        _format_tiers(spec, out, "Flux App was requested as tiered setup but specifications are missing", "")


def _format_compose(spec: dict, version: Any) -> list:
    compose = get(spec, "compose")
    if not js_truthy(compose):
        raise _fail("Missing Flux App specification parameter compose", "compose")
    compose = ensure_object(compose)
    if not isinstance(compose, list):
        raise _fail("Flux App compose parameter is not valid", "compose")
    return [_format_component(component, version, index) for index, component in enumerate(compose)]


def _format_component(component: Any, version: Any, index: int) -> dict:
    prefix = f"compose[{index}]."
    if component is None:
        raise _fail("Cannot read properties of null (reading 'name')", f"compose[{index}]")
    # FluxOS names the component in messages with the raw (uncoerced) name.
    label = js_to_string(get(component, "name"))
    out: dict[str, Any] = {
        "name": ensure_string(get(component, "name")),
        "description": ensure_string(get(component, "description")),
        "repotag": ensure_string(get(component, "repotag")),
    }
    ports = ensure_object(get(component, "ports"))
    if not isinstance(ports, list):
        raise _fail(f"Ports for Flux App component {label} are invalid", prefix + "ports")
    out["ports"] = [ensure_number(port) for port in ports]
    out["domains"] = _string_list(
        get(component, "domains"), f"Domains for Flux App component {label} are invalid", prefix + "domains"
    )
    out["environmentParameters"] = _string_list(
        get(component, "environmentParameters"),
        f"Environmental parameters for Flux App component {label} are invalid",
        prefix + "environmentParameters",
    )
    out["commands"] = _string_list(
        get(component, "commands"), f"Flux App component {label} commands are invalid", prefix + "commands"
    )
    container_ports = ensure_object(get(component, "containerPorts"))
    if not isinstance(container_ports, list):
        raise _fail(f"Container Ports for Flux App component {label} are invalid", prefix + "containerPorts")
    out["containerPorts"] = list(container_ports)  # kept uncoerced, as FluxOS does
    out["containerData"] = ensure_string(get(component, "containerData"))
    out["cpu"] = ensure_number(get(component, "cpu"))
    out["ram"] = ensure_number(get(component, "ram"))
    out["hdd"] = ensure_number(get(component, "hdd"))

    if js_le(version, 7):
        tiered = get(component, "tiered")  # taken as given, not ensureBoolean'd
        if js_typeof(tiered) != "boolean":
            raise _fail("Invalid tiered value obtained. Only boolean as true or false allowed.", prefix + "tiered")
        out["tiered"] = tiered
        if tiered:
            _format_tiers(
                component, out,
                f"Flux App component {label} was requested as tiered setup but specifications are missing",
                prefix,
            )
    if js_ge(version, 7):
        out["repoauth"] = ensure_string(get(component, "repoauth"))
        if strict_equals(version, 7):
            out["secrets"] = ensure_string(get(component, "secrets"))
    return _drop_undefined(out)


def _format_instances(spec: dict, version: Any) -> Any:
    instances = get(spec, "instances")
    if not js_truthy(instances):
        raise _fail("Missing Flux App specification parameter instances", "instances")
    instances = ensure_number(instances)
    if not is_integer(instances):
        raise _fail("Invalid instances specified", "instances")
    minimum = fluxconfig.MINIMUM_INSTANCES_V8 if js_ge(version, 8) else fluxconfig.MINIMUM_INSTANCES
    if js_lt(instances, minimum):
        raise _fail(f"Minimum number of instances is {minimum}", "instances")
    if js_gt(instances, fluxconfig.MAXIMUM_INSTANCES):
        raise _fail(f"Maximum number of instances is {fluxconfig.MAXIMUM_INSTANCES}", "instances")
    return instances


def _format_contacts_geolocation(spec: dict, out: dict) -> None:
    contacts, geolocation = get(spec, "contacts"), get(spec, "geolocation")
    if not js_truthy(contacts) or not js_truthy(geolocation):
        field = "contacts" if not js_truthy(contacts) else "geolocation"
        raise _fail("Missing Flux App specification parameter contacts and/or geolocation", field)
    out["contacts"] = _string_list(contacts, "Contacts for Flux App are invalid", "contacts")
    out["geolocation"] = _string_list(geolocation, "Geolocation for Flux App is invalid", "geolocation")


def _format_expire(spec: dict) -> Any:
    expire = get(spec, "expire")
    if not js_truthy(expire):
        raise _fail("Missing Flux App specification parameter expire", "expire")
    expire = ensure_number(expire)
    if not is_integer(expire):
        raise _fail("Invalid instances specified", "expire")  # sic: FluxOS's message for expire
    return expire  # the maximum depends on the height: the validator's rule


def _format_nodes_staticip(spec: dict, out: dict) -> None:
    nodes = get(spec, "nodes")
    if not js_truthy(nodes):
        raise _fail("Missing Flux App specification parameter nodes", "nodes")
    out["nodes"] = _string_list(nodes, "Nodes for Flux App are invalid", "nodes")
    staticip = ensure_boolean(get(spec, "staticip"))
    if js_typeof(staticip) != "boolean":
        raise _fail("Invalid staticip specification. Only boolean as true or false allowed.", "staticip")
    out["staticip"] = staticip


def _format_v8_flags(spec: dict, out: dict) -> None:
    # `datacenter` is optional: written (after staticip) only when the submitter sent it, as
    # ensureBoolean gives it; a value ensureBoolean does not know becomes undefined, which
    # `_drop_undefined` removes as JSON.stringify would (no error: FluxOS raises none here).
    datacenter = get(spec, "datacenter")
    if datacenter is not UNDEFINED:
        out["datacenter"] = ensure_boolean(datacenter)
    enterprise = get(spec, "enterprise")
    if js_truthy(enterprise):
        enterprise = ensure_string(enterprise)
    out["enterprise"] = enterprise  # falsy values ('' / false / null) are kept as given
