"""The pure part of FluxOS `appValidator.verifyAppSpecifications(spec, height, false)`.

Check order (the first failure wins, as in FluxOS): type checks (`verifyTypeCorrectnessOfApp`) ->
restriction checks (`verifyRestrictionCorrectnessOfApp`) -> "version not yet supported at this
height" -> allowed keys (`verifyObjectKeysCorrectnessOfApp`) -> unique ports
(`portManager.ensureAppUniquePorts`) -> hardware (`checkHWParameters` for v1-3,
`checkComposeHWParameters` for v4+). The Docker/registry stage (`checkDockerAndWhitelist`) needs
the network and is not part of this module.

Works on any dict: normally the formatter's output, but also a raw spec (FluxOS's "verify only"
behaviour) - then the type checks report what the formatter would have coerced. JavaScript
semantics are kept throughout (`x.length` of a non-string, `undefined > 200` being false, string
concatenation in `+=`), including the TypeErrors FluxOS itself would throw on null components or a
missing v4+ `repotag`/`containerData` ("Cannot read properties of undefined (reading 'length')").

Deliberately reproduced quirks: "in in", "whished", "accross", "selecteed", "submited"; the v7
unknown-key message has no key name; "Environment parameters ..." / "Geolocation for Flux App are
invalid" / "Invalid static ip value obtained ..." (the formatter words these differently); v4+
components are only checked as totals, so a 0.15 cpu or -100 MB component passes.
"""

from __future__ import annotations

import re
from typing import Any

from . import fluxconfig
from .jsjson import (
    UNDEFINED,
    get,
    is_integer,
    js_add,
    js_ge,
    js_gt,
    js_le,
    js_len,
    js_lt,
    js_mod,
    js_mul,
    js_to_string,
    js_truthy,
    js_typeof,
    strict_equals,
    to_js_value,
)
from .spec_errors import VALIDATOR, SpecError
from .spec_helpers import is_decimal_limit, is_port_banned

APP_NAME_V8 = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?")
ALPHANUMERIC = re.compile(r"[a-zA-Z0-9]+")
TIER_FIELDS = ("cpubasic", "cpusuper", "cpubamf", "rambasic", "ramsuper", "rambamf", "hddbasic", "hddsuper", "hddbamf")


def _fail(message: str, field: str | None = None) -> SpecError:
    return SpecError(message, field=field, stage=VALIDATOR)


def _length(value: Any, field: str | None = None) -> Any:
    """`value.length` with JS semantics (UNDEFINED for numbers, TypeError for null/undefined)."""
    if value is None or value is UNDEFINED:
        raise _fail(f"Cannot read properties of {js_to_string(value)} (reading 'length')", field)
    if isinstance(value, str):
        return js_len(value)
    if isinstance(value, list):
        return len(value)
    return get(value, "length")


def _prop(obj: Any, key: str, field: str | None = None) -> Any:
    """`obj.key` with the TypeError JS throws when obj is null or undefined."""
    if obj is None or obj is UNDEFINED:
        raise _fail(f"Cannot read properties of {js_to_string(obj)} (reading '{key}')", field)
    return get(obj, key)


def _is_string_array(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def validate_spec(
    spec: Any, height: int, *, enterprise_owners: tuple[str, ...] | list[str] | None = None
) -> None:
    """Raise SpecError exactly where `verifyAppSpecifications(spec, height, false)` throws."""
    spec = to_js_value(spec)
    if not js_truthy(spec) or js_typeof(spec) != "object" or isinstance(spec, list):
        raise _fail("Invalid Flux App Specifications")
    owners = fluxconfig.ENTERPRISE_APP_OWNERS if enterprise_owners is None else tuple(enterprise_owners)

    check_types(spec)
    check_restrictions(spec, height, owners)
    version = get(spec, "version")
    if js_lt(height, fluxconfig.APP_SPECS_ENFORCEMENT_HEIGHTS[version]):
        raise _fail(f"Flux apps specifications of version {js_to_string(version)} not yet supported", "version")
    check_allowed_keys(spec)
    check_unique_ports(spec)
    if js_le(version, 3):
        check_hw_parameters(spec)
    else:
        check_compose_hw_parameters(spec)


# --- verifyTypeCorrectnessOfApp ------------------------------------------------------------------


def check_types(spec: dict) -> None:
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
        if not js_truthy(enterprise) and js_truthy(nodes) and js_gt(_length(nodes), 0):
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
        if not _is_string_array(get(spec, "contacts")):
            raise _fail("Contacts for Flux App are invalid", "contacts")
        if not _is_string_array(get(spec, "geolocation")):
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
        if not _is_string_array(nodes):
            raise _fail("Nodes for Flux App are invalid", "nodes")
        if js_typeof(get(spec, "staticip")) != "boolean":
            raise _fail("Invalid static ip value obtained. Only boolean as true or false allowed.", "staticip")
    if js_ge(version, 8):
        datacenter = get(spec, "datacenter")
        if datacenter is not UNDEFINED and js_typeof(datacenter) != "boolean":
            raise _fail("Invalid datacenter value obtained. Only boolean as true or false allowed.", "datacenter")


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
    if not _is_string_array(get(spec, "enviromentParameters")):
        raise _fail("Environmental parameters for Flux App are invalid", "enviromentParameters")
    if not _is_string_array(get(spec, "commands")):
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
    if not _is_string_array(get(spec, "domains")):
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
        name = _prop(component, "name", f"compose[{index}]")
        if not isinstance(name, str):
            raise _fail("Invalid Flux App component name", prefix + "name")
        label = name
        if not isinstance(get(component, "description"), str):
            raise _fail(f"Invalid Flux App component {label} description", prefix + "description")
        _check_number_array(get(component, "ports"), label, "Ports", prefix + "ports")
        if not _is_string_array(get(component, "domains")):
            raise _fail(f"Domains for Flux App component {label} are invalid", prefix + "domains")
        if not _is_string_array(get(component, "environmentParameters")):
            raise _fail(
                f"Environment parameters for Flux App component {label} are invalid", prefix + "environmentParameters"
            )
        if not _is_string_array(get(component, "commands")):
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


# --- verifyRestrictionCorrectnessOfApp -----------------------------------------------------------


def check_restrictions(spec: dict, height: int, enterprise_owners: tuple[str, ...]) -> None:
    legacy_ports = js_lt(height, fluxconfig.PORT_BLOCKHEIGHT_CHANGE)
    min_port = fluxconfig.PORT_MIN_LEGACY if legacy_ports else fluxconfig.PORT_MIN
    max_port = fluxconfig.PORT_MAX_LEGACY if legacy_ports else fluxconfig.PORT_MAX
    version = get(spec, "version")
    if not any(strict_equals(version, allowed) for allowed in range(1, 9)):
        raise _fail("Flux App message version specification is invalid", "version")

    _check_name_and_description(spec, version)
    name = get(spec, "name")
    if strict_equals(version, 1):
        _check_port(get(spec, "port"), min_port, max_port, "port")
        container_port = get(spec, "containerPort")
        if js_lt(container_port, 0) or js_gt(container_port, 65535):
            raise _fail(f"Container Port {js_to_string(container_port)} is not within system limits 0-65535", "containerPort")
    elif js_le(version, 3):
        _check_v2_v3_ports(spec, name, min_port, max_port)

    if js_le(version, 3):
        _check_v1_v3_lengths(spec, name)
    else:
        _check_compose_restrictions(spec, version, height, min_port, max_port)

    if js_ge(version, 3):
        _check_instances(spec, version, height)
    if js_ge(version, 5):
        _check_contacts_geolocation(spec)
    if js_ge(version, 6):
        _check_expire(spec, height)
    if js_ge(version, 7):
        nodes = get(spec, "nodes")
        if js_gt(_length(nodes, "nodes"), 120):
            raise _fail("Maximum number of selecteed nodes is 120", "nodes")
        for node in nodes:
            if js_gt(_length(node, "nodes"), 70):  # 64-char txhash, ':', up to 5-digit output index
                raise _fail("Invalid node length", "nodes")
    if js_ge(version, 8) and js_truthy(get(spec, "datacenter")):
        if get(spec, "owner") not in enterprise_owners:
            raise _fail("Datacenter requirement is only available for enterprise app owners.", "datacenter")


def _check_name_and_description(spec: dict, version: Any) -> None:
    name = get(spec, "name")
    max_length = 63 if js_ge(version, 8) else 32  # v8: an FQDN label (RFC 1035)
    if js_gt(_length(name, "name"), max_length):
        raise _fail(f"Flux App name is too long. Maximum {max_length} characters allowed", "name")
    if not js_truthy(name):
        raise _fail("Please provide a valid Flux App name", "name")
    if js_ge(version, 8):
        if not APP_NAME_V8.fullmatch(name):
            raise _fail(
                "Flux App name contains special characters. Only a-z, A-Z, 0-9 and hyphens are allowed "
                "(hyphens cannot be first or last character)",
                "name",
            )
    elif not ALPHANUMERIC.fullmatch(name):
        raise _fail("Flux App name contains special characters. Only a-z, A-Z and 0-9 are allowed", "name")
    if name.startswith("zel"):
        raise _fail("Flux App name can not start with zel", "name")
    if name.lower() == "watchtower":
        raise _fail("Flux App name is conflicting with another application", "name")
    if name.startswith("flux"):
        raise _fail("Flux App name can not start with flux", "name")
    if js_gt(_length(get(spec, "description"), "description"), 256):
        raise _fail("Description is too long. Maximum of 256 characters is allowed", "description")


def _check_port(port: Any, min_port: int, max_port: int, field: str) -> None:
    if js_lt(port, min_port) or js_gt(port, max_port):
        raise _fail(f"Assigned port {js_to_string(port)} is not within Flux Apps range {min_port}-{max_port}", field)
    if is_port_banned(port):
        raise _fail(f"Assigned port {js_to_string(port)} is not allowed for Flux Apps", field)


def _check_v2_v3_ports(spec: dict, name: Any, min_port: int, max_port: int) -> None:
    ports, container_ports, domains = get(spec, "ports"), get(spec, "containerPorts"), get(spec, "domains")
    for port in ports:
        _check_port(port, min_port, max_port, "ports")
    for port in container_ports:
        if js_lt(port, 0) or js_gt(port, 65535):
            raise _fail(f"Container Port {js_to_string(port)} is not within system limits 0-65535", "containerPorts")
    if len(container_ports) != len(ports):
        raise _fail("Ports specifications do not match", "containerPorts")
    if len(domains) != len(ports):
        raise _fail("Domains specifications do not match available ports", "domains")
    if len(ports) > 5:
        raise _fail("Too many ports defined. Maximum of 5 allowed.", "ports")
    for domain in domains:
        if js_len(domain) > 253:
            raise _fail(
                f"App {js_to_string(name)} domain {domain} is too long. Maximum of 253 characters is allowed", "domains"
            )


def _check_v1_v3_lengths(spec: dict, name: Any) -> None:
    container_data = _length(get(spec, "containerData"), "containerData")
    if js_lt(container_data, 2):
        raise _fail("Flux App container data folder not specified. If no data folder is whished, use /tmp", "containerData")
    if js_gt(container_data, 200):
        raise _fail("Flux App Container Data is too long. Maximum of 200 characters is allowed", "containerData")
    if js_gt(_length(get(spec, "repotag"), "repotag"), 200):
        raise _fail("Flux App Repository is too long. Maximum of 200 characters is allowed.", "repotag")
    label = js_to_string(name)
    env = get(spec, "enviromentParameters")
    if len(env) > 20:
        raise _fail(f"App {label} environment invalid. Maximum of 20 environment variables allowed.", "enviromentParameters")
    for item in env:
        if js_len(item) > 400:
            raise _fail(
                f"App {label} environment {item} is too long. Maximum of 400 characters is allowed", "enviromentParameters"
            )
    commands = get(spec, "commands")
    if len(commands) > 20:
        raise _fail(f"App {label} commands invalid. Maximum of 20 commands allowed.", "commands")
    for item in commands:
        if js_len(item) > 400:
            raise _fail(f"App {label} command {item} is too long. Maximum of 400 characters is allowed", "commands")


def _check_compose_restrictions(spec: dict, version: Any, height: int, min_port: int, max_port: int) -> None:
    compose = get(spec, "compose")
    if len(compose) < 1:
        raise _fail("Flux App does not contain any composition", "compose")
    max_components = 5 if js_lt(height, fluxconfig.APP_SPECS_ENFORCEMENT_HEIGHTS[6]) else 10
    if len(compose) > max_components:
        raise _fail("Flux App has too many components", "compose")
    used_names: list[str] = []
    for index, component in enumerate(compose):
        _check_component(spec, component, index, version, min_port, max_port, used_names)


def _check_component(
    spec: dict, component: Any, index: int, version: Any, min_port: int, max_port: int, used_names: list
) -> None:
    prefix = f"compose[{index}]."
    if not js_truthy(component) or js_typeof(component) != "object":
        raise _fail("Invalid Flux App Specifications", f"compose[{index}]")
    name = get(component, "name")
    if not js_truthy(name):
        raise _fail("Please provide a valid Flux App Component name", prefix + "name")
    max_length = 63 if js_ge(version, 8) else 32
    if js_gt(_length(name, prefix + "name"), max_length):
        raise _fail(f"Flux App component name is too long. Maximum {max_length} characters allowed", prefix + "name")
    if name.startswith("zel"):
        raise _fail("Flux App Component name can not start with zel", prefix + "name")
    if name.startswith("flux"):
        raise _fail("Flux App Component name can not start with flux", prefix + "name")
    if not ALPHANUMERIC.fullmatch(name):  # no hyphens in component names, even in v8
        raise _fail("Flux App component name contains special characters. Only a-z, A-Z and 0-9 are allowed", prefix + "name")
    if name in used_names:
        raise _fail(f"Flux App component {name} already assigned. Use different name.", prefix + "name")
    used_names.append(name)
    if js_len(get(component, "description")) > 256:
        raise _fail("Description is too long. Maximum of 256 characters is allowed.", prefix + "description")
    ports = get(component, "ports")
    for port in ports:
        _check_port(port, min_port, max_port, prefix + "ports")
    if js_gt(_length(get(component, "repotag"), prefix + "repotag"), 200):
        raise _fail("Flux App Repository is too long. Maximum of 200 characters is allowed.", prefix + "repotag")
    container_data = _length(get(component, "containerData"), prefix + "containerData")
    if js_gt(container_data, 200):
        raise _fail("Flux App Container Data is too long. Maximum of 200 characters is allowed", prefix + "containerData")
    env = get(component, "environmentParameters")
    if len(env) > 20:
        raise _fail(
            f"App component {name} environment invalid. Maximum of 20 environment variables allowed.",
            prefix + "environmentParameters",
        )
    for item in env:
        if js_len(item) > 400:
            raise _fail(
                f"App component {name} environment {item} is too long. Maximum of 400 characters is allowed",
                prefix + "environmentParameters",
            )
    commands = get(component, "commands")
    if len(commands) > 20:
        raise _fail(f"App component {name} commands invalid. Maximum of 20 commands allowed.", prefix + "commands")
    for item in commands:
        if js_len(item) > 400:
            raise _fail(
                f"App component {name} command {item} is too long. Maximum of 400 characters is allowed",
                prefix + "commands",
            )
    domains = get(component, "domains")
    for domain in domains:
        if js_len(domain) > 253:
            raise _fail(
                f"App component {name} domain {domain} is too long. Maximum of 253 characters is allowed",
                prefix + "domains",
            )
    container_ports = get(component, "containerPorts")
    for port in container_ports:
        if js_lt(port, 0) or js_gt(port, 65535):
            raise _fail(
                f"Container Port {js_to_string(port)} in in {name} is not within system limits 0-65535",
                prefix + "containerPorts",
            )
    if len(container_ports) != len(ports):
        raise _fail(f"Ports specifications in {name} do not match", prefix + "containerPorts")
    if len(domains) != len(ports):
        raise _fail(f"Domains specifications in {name} do not match available ports", prefix + "domains")
    if len(ports) > 5:
        raise _fail(f"Too many ports defined in {name}. Maximum of 5 allowed.", prefix + "ports")
    if js_lt(container_data, 2):
        raise _fail(
            f"Flux App container data folder not specified in in {name}. If no data folder is whished, use /tmp",
            prefix + "containerData",
        )
    _check_private_fields(spec, component, version, prefix)


def _check_private_fields(spec: dict, component: dict, version: Any, prefix: str) -> None:
    """Secrets (v7) and registry credentials: only for enterprise apps (v7: apps with `nodes`)."""
    repoauth_length = js_len(get(component, "repoauth")) if strict_equals(version, 7) or js_ge(version, 8) else 0
    if strict_equals(version, 7):
        secrets_length = js_len(get(component, "secrets"))
        if len(get(spec, "nodes")) == 0:
            if secrets_length:
                raise _fail("Secrets can not be defined for non Enterprise Applications", prefix + "secrets")
            if repoauth_length:
                raise _fail("Private repositories are only allowed for Enterprise Applications", prefix + "repoauth")
        else:
            if secrets_length > 15000:
                raise _fail(
                    "Maximum length of secrets is 15000. Consider uploading to Flux Storage for bigger payload.",
                    prefix + "secrets",
                )
            if repoauth_length > 15000:
                raise _fail("Maximum length of repoauth is 15000.", prefix + "repoauth")
    if js_ge(version, 8):
        if not js_truthy(get(spec, "enterprise")):
            if repoauth_length:
                raise _fail("Private repositories are only allowed for Enterprise Applications", prefix + "repoauth")
        elif repoauth_length > 15000:
            raise _fail("Maximum length of repoauth is 15000.", prefix + "repoauth")


def _check_instances(spec: dict, version: Any, height: int) -> None:
    # v8 apps may run a single instance once the chain passed minimumInstancesV8Block.
    v8_single = js_ge(version, 8) and js_ge(height, fluxconfig.MINIMUM_INSTANCES_V8_BLOCK)
    minimum = fluxconfig.MINIMUM_INSTANCES_V8 if v8_single else fluxconfig.MINIMUM_INSTANCES
    instances = get(spec, "instances")
    if js_lt(instances, minimum):
        raise _fail(f"Minimum number of instances is {minimum}", "instances")
    if js_gt(instances, fluxconfig.MAXIMUM_INSTANCES):
        raise _fail(f"Maximum number of instances is {fluxconfig.MAXIMUM_INSTANCES}", "instances")


def _check_contacts_geolocation(spec: dict) -> None:
    contacts, geolocation = get(spec, "contacts"), get(spec, "geolocation")
    if len(contacts) > 5:
        raise _fail("Too many contacts defined. Maximum of 5 allowed.", "contacts")
    for contact in contacts:
        if js_len(contact) > 75:
            raise _fail(f"Contact {contact} is too long. Maximum of 75 characters is allowed.", "contacts")
    if len(geolocation) > 10:
        raise _fail("Invalid geolocation submited.", "geolocation")
    for geo in geolocation:
        if js_len(geo) > 50:
            raise _fail(f"Geolocation {geo} is not valid.", "geolocation")


def _check_expire(spec: dict, height: int) -> None:
    expire = get(spec, "expire")
    if js_lt(height, fluxconfig.NEW_MIN_BLOCKS_ALLOWANCE_BLOCK):
        if js_lt(expire, fluxconfig.MIN_BLOCKS_ALLOWANCE):
            raise _fail(f"Minimum expiration of application is {fluxconfig.MIN_BLOCKS_ALLOWANCE} blocks ~ 1 week", "expire")
    elif js_lt(height, fluxconfig.CANCEL_1_BLOCK_MIN_BLOCKS_ALLOWANCE_BLOCK):
        if js_lt(expire, fluxconfig.NEW_MIN_BLOCKS_ALLOWANCE):
            raise _fail(
                f"Minimum expiration of application is {fluxconfig.NEW_MIN_BLOCKS_ALLOWANCE} blocks ~ 3 hours", "expire"
            )
    elif js_lt(expire, fluxconfig.CANCEL_1_BLOCK_MIN_BLOCKS_ALLOWANCE):
        raise _fail(
            f"Minimum expiration of application is {fluxconfig.CANCEL_1_BLOCK_MIN_BLOCKS_ALLOWANCE} blocks", "expire"
        )
    # After the PON fork the chain is 4x faster, so 4x more blocks make the same year.
    post_pon = js_ge(height, fluxconfig.DAEMON_PON_FORK)
    maximum = fluxconfig.POST_PON_MAX_BLOCKS_ALLOWANCE if post_pon else fluxconfig.MAX_BLOCKS_ALLOWANCE
    if js_gt(expire, maximum):
        raise _fail(f"Maximum expiration of application is {maximum} blocks ~ 1 year", "expire")
    if js_lt(height, fluxconfig.REMOVE_BLOCKS_ALLOWANCE_INTERVAL_BLOCK):
        if js_mod(expire, fluxconfig.BLOCKS_ALLOWANCE_INTERVAL) != 0:
            raise _fail(
                f"Expiration of application has to be a multiple of {fluxconfig.BLOCKS_ALLOWANCE_INTERVAL} blocks ~ 1 day",
                "expire",
            )


# --- verifyObjectKeysCorrectnessOfApp ------------------------------------------------------------

_V1_V3_TIERS = ("tiered",) + TIER_FIELDS
_ALLOWED_TOP_LEVEL = {
    1: ("version", "name", "description", "owner", "repotag", "port", "containerPort", "enviromentParameters",
        "commands", "containerData", "cpu", "ram", "hdd") + _V1_V3_TIERS,
    2: ("version", "name", "description", "owner", "repotag", "ports", "containerPorts", "enviromentParameters",
        "commands", "containerData", "domains", "cpu", "ram", "hdd") + _V1_V3_TIERS,
    3: ("version", "name", "description", "owner", "repotag", "ports", "containerPorts", "enviromentParameters",
        "commands", "containerData", "domains", "instances", "cpu", "ram", "hdd") + _V1_V3_TIERS,
    4: ("version", "name", "description", "owner", "compose", "instances"),
    5: ("version", "name", "description", "owner", "compose", "instances", "contacts", "geolocation"),
    6: ("version", "name", "description", "owner", "compose", "instances", "contacts", "geolocation", "expire"),
    7: ("version", "name", "description", "owner", "compose", "instances", "contacts", "geolocation", "expire",
        "nodes", "staticip"),
    8: ("version", "name", "description", "owner", "compose", "instances", "contacts", "geolocation", "expire",
        "nodes", "staticip", "enterprise", "datacenter"),
}
_COMPONENT_BASE = ("name", "description", "repotag", "ports", "containerPorts", "environmentParameters", "commands",
                   "containerData", "domains")
_ALLOWED_COMPONENT = {
    4: _COMPONENT_BASE + ("cpu", "ram", "hdd") + _V1_V3_TIERS,
    5: _COMPONENT_BASE + ("cpu", "ram", "hdd") + _V1_V3_TIERS,
    6: _COMPONENT_BASE + ("cpu", "ram", "hdd") + _V1_V3_TIERS,
    7: _COMPONENT_BASE + ("secrets", "repoauth", "cpu", "ram", "hdd") + _V1_V3_TIERS,
    8: _COMPONENT_BASE + ("repoauth", "cpu", "ram", "hdd"),
}


def check_allowed_keys(spec: dict) -> None:
    version = get(spec, "version")
    number = next((v for v in range(1, 9) if strict_equals(version, v)), None)
    if number is None:
        raise _fail(f"Invalid version specification of {js_to_string(version)}", "version")
    for key in spec:
        if key not in _ALLOWED_TOP_LEVEL[number]:
            if number <= 3 or number == 7:  # these versions do not name the key
                raise _fail(f"Unsupported parameter for v{number} app specifications", key)
            raise _fail(f"Unsupported parameter for v{number} app specifications: {key}", key)
    if number <= 3:
        return
    for index, component in enumerate(get(spec, "compose")):
        for key in component:
            if key not in _ALLOWED_COMPONENT[number]:
                field = f"compose[{index}].{key}"
                if number == 7:
                    raise _fail("Unsupported parameter for v7 app specifications", field)
                raise _fail(f"Unsupported parameter for v{number} app specifications in component: {key}", field)


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


# --- checkHWParameters / checkComposeHWParameters ------------------------------------------------

_STRATUS_CPU = fluxconfig.FLUX_SPECIFICS["cpu"]["stratus"] - fluxconfig.LOCKED_SYSTEM_RESOURCES["cpu"]
_TIER_LIMITS = {
    tier: (
        fluxconfig.FLUX_SPECIFICS["cpu"][tier] - fluxconfig.LOCKED_SYSTEM_RESOURCES["cpu"],  # tenths of a core
        fluxconfig.FLUX_SPECIFICS["ram"][tier] - fluxconfig.LOCKED_SYSTEM_RESOURCES["ram"],
        fluxconfig.FLUX_SPECIFICS["hdd"][tier] - fluxconfig.LOCKED_SYSTEM_RESOURCES["hdd"],
    )
    for tier in ("cumulus", "nimbus", "stratus")
}
_TIER_SUFFIX = {"cumulus": ("basic", "Cumulus"), "nimbus": ("super", "Nimbus"), "stratus": ("bamf", "Stratus")}


def _check_one_hw_set(cpu: Any, ram: Any, hdd: Any, limits: tuple, label: str, name: str, fields: tuple) -> None:
    cpu_limit, ram_limit, hdd_limit = limits
    cpu10 = js_mul(cpu, 10)
    if js_mod(cpu10, 1) != 0 or js_gt(cpu10, cpu_limit) or js_lt(cpu, 0.1):
        raise _fail(f"CPU {label}badly assigned for {name}", fields[0])
    if js_mod(ram, 100) != 0 or js_gt(ram, ram_limit) or js_lt(ram, 100):
        raise _fail(f"RAM {label}badly assigned for {name}", fields[1])
    if js_mod(hdd, 1) != 0 or js_gt(hdd, hdd_limit) or js_lt(hdd, 1):
        raise _fail(f"SSD {label}badly assigned for {name}", fields[2])


def check_hw_parameters(spec: dict) -> None:
    """checkHWParameters (v1-v3): each value on the 0.1 core / 100 MB / 1 GB grid and within a Stratus node."""
    name = js_to_string(get(spec, "name"))
    _check_one_hw_set(
        get(spec, "cpu"), get(spec, "ram"), get(spec, "hdd"), _TIER_LIMITS["stratus"], "", name, ("cpu", "ram", "hdd")
    )
    if js_truthy(get(spec, "tiered")):
        for tier in ("cumulus", "nimbus", "stratus"):
            suffix, label = _TIER_SUFFIX[tier]
            keys = (f"cpu{suffix}", f"ram{suffix}", f"hdd{suffix}")
            _check_one_hw_set(*(get(spec, k) for k in keys), _TIER_LIMITS[tier], f"for {label} ", name, keys)


def _or(a: Any, b: Any) -> Any:
    return a if js_truthy(a) else b


def check_compose_hw_parameters(spec: dict) -> None:
    """checkComposeHWParameters (v4+): only the sums over components are limited."""
    compose = get(spec, "compose")
    name = js_to_string(get(spec, "name"))
    is_tiered = any(get(component, "tiered") is True for component in compose)
    totals: dict[str, Any] = {key: 0 for key in ("cpu", "ram", "hdd")}
    tier_totals = {tier: {"cpu": 0, "ram": 0, "hdd": 0} for tier in _TIER_SUFFIX}
    for component in compose:
        if is_tiered:
            for tier, (suffix, _label) in _TIER_SUFFIX.items():
                acc = tier_totals[tier]
                acc["cpu"] = js_add(acc["cpu"], js_mul(_or(get(component, f"cpu{suffix}"), get(component, "cpu")), 10))
                acc["ram"] = js_add(acc["ram"], _or(get(component, f"ram{suffix}"), get(component, "ram")))
                acc["hdd"] = js_add(acc["hdd"], _or(get(component, f"hdd{suffix}"), get(component, "hdd")))
        else:
            totals["cpu"] = js_add(totals["cpu"], js_mul(get(component, "cpu"), 10))
            totals["ram"] = js_add(totals["ram"], get(component, "ram"))
            totals["hdd"] = js_add(totals["hdd"], get(component, "hdd"))
    cpu_limit, ram_limit, hdd_limit = _TIER_LIMITS["stratus"]
    for key, limit, word in (("cpu", cpu_limit, "CPU"), ("ram", ram_limit, "RAM"), ("hdd", hdd_limit, "SSD")):
        if js_gt(totals[key], limit):
            raise _fail(f"Too much {word} resources assigned for {name}", "compose")
    if is_tiered:
        for tier in ("cumulus", "nimbus", "stratus"):
            limits = _TIER_LIMITS[tier]
            label = _TIER_SUFFIX[tier][1]
            for key, limit, word in zip(("cpu", "ram", "hdd"), limits, ("CPU", "RAM", "SSD"), strict=True):
                if js_gt(tier_totals[tier][key], limit):
                    raise _fail(f"Too much {word} for {label} resources assigned for {name}", "compose")
