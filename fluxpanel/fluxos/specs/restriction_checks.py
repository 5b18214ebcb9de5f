"""`appValidator.verifyRestrictionCorrectnessOfApp`: names, lengths, port ranges, instances, expiry, nodes.

Quirks kept verbatim: "in in", "whished", "selecteed", "submited"; v4+ components are only checked as
totals by the hardware stage, so a component's own cpu/ram/hdd grid is not checked here.
"""

from __future__ import annotations

import re
from typing import Any

from .. import fluxconfig
from ..jsjson import (
    get,
    js_ge,
    js_gt,
    js_le,
    js_len,
    js_lt,
    js_mod,
    js_to_string,
    js_truthy,
    js_typeof,
    strict_equals,
)
from .errors import validator_error as _fail
from .helpers import is_port_banned, js_length

APP_NAME_V8 = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?")  # appConstants.APP_NAME_REGEX
ALPHANUMERIC = re.compile(r"[a-zA-Z0-9]+")  # APP_NAME_REGEX_LEGACY (both anchored: fullmatch)


def check_restrictions(spec: dict, height: int) -> None:
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
        if js_gt(js_length(nodes, "nodes"), 120):
            raise _fail("Maximum number of selecteed nodes is 120", "nodes")
        for node in nodes:
            if js_gt(js_length(node, "nodes"), 70):  # 64-char txhash, ':', up to 5-digit output index
                raise _fail("Invalid node length", "nodes")


def _check_name_and_description(spec: dict, version: Any) -> None:
    name = get(spec, "name")
    max_length = 63 if js_ge(version, 8) else 32  # v8: an FQDN label (RFC 1035)
    if js_gt(js_length(name, "name"), max_length):
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
    if js_gt(js_length(get(spec, "description"), "description"), 256):
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
    container_data = js_length(get(spec, "containerData"), "containerData")
    if js_lt(container_data, 2):
        raise _fail("Flux App container data folder not specified. If no data folder is whished, use /tmp", "containerData")
    if js_gt(container_data, 200):
        raise _fail("Flux App Container Data is too long. Maximum of 200 characters is allowed", "containerData")
    if js_gt(js_length(get(spec, "repotag"), "repotag"), 200):
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
    if js_gt(js_length(name, prefix + "name"), max_length):
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
    if js_gt(js_length(get(component, "repotag"), prefix + "repotag"), 200):
        raise _fail("Flux App Repository is too long. Maximum of 200 characters is allowed.", prefix + "repotag")
    container_data = js_length(get(component, "containerData"), prefix + "containerData")
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
