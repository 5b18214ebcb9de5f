"""Pasted JSON of any app spec version (v1–v8) → a v8 draft spec.

The mapping is FluxOS's own `appUtilities.updateToLatestAppSpecifications` (845aa9b), with the
caveats of that function fixed, as reference §4.5 says must be done before signing:
* FluxOS writes `istances` (sic): here it is `instances`;
* for v4–v7 FluxOS leaves `owner` out: here it is kept;
* v1–v5 had no `expire`: FluxOS puts 22000 (one month before the PON fork); here one month at
  the given height (`pricing.default_expire`: 88000 after the fork);
* v1 had one `port`/`containerPort` and no `domains`: one-item lists and one empty domain, so
  ports, containerPorts and domains stay the same length (a v8 rule);
* v2/v3 ports and containerPorts were strings: v8 wants numbers;
* tier fields and v7 `secrets` have no v8 key and are left out; `hash`/`height` too.

`import_spec` refuses a paste with the reason: not JSON, not a spec, a version FluxOS does not
know, or FluxOS's own error text for the spec as given or after the upgrade.
"""
from __future__ import annotations

import json
from typing import Any

from fluxpanel.fluxos import pricing
from fluxpanel.fluxos.specs import SpecError, check_spec, format_spec

MAX_PASTE_CHARS = 200_000
MAX_DEPTH = 20
VERSIONS = range(1, 9)


class ImportRefused(ValueError):
    """The paste cannot become a draft; the message says why."""


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


def parse_paste(text: str) -> dict:
    """The spec object of a paste: a bare spec, FluxOS's `{"status","data"}` answer, or a signed
    message body with `appSpecification`."""
    text = (text or "").strip()
    if not text:
        raise ImportRefused("Paste an app specification (JSON).")
    if len(text) > MAX_PASTE_CHARS:
        raise ImportRefused(f"The paste is longer than {MAX_PASTE_CHARS:,} characters.")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ImportRefused(f"This is not JSON: {exc}") from None
    if _depth(value) > MAX_DEPTH:
        raise ImportRefused("The JSON is nested too deeply to be an app specification.")
    if isinstance(value, dict) and isinstance(value.get("data"), dict) and value.get("status") == "success":
        value = value["data"]
    if isinstance(value, dict) and isinstance(value.get("appSpecification"), dict):
        value = value["appSpecification"]
    if not isinstance(value, dict):
        raise ImportRefused("An app specification is a JSON object ({…}).")
    version = value.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version not in VERSIONS:
        raise ImportRefused(f"Unknown specification version {version!r}: FluxOS knows versions 1 to 8.")
    return value


def _number(value: Any) -> Any:
    """A v2/v3 port string as a number (left as it is when it is not one: the check names it)."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return value


def _list(value: Any) -> list:
    return list(value) if isinstance(value, list) else []


def _component(source: dict, *, legacy: bool, name: str | None = None, repoauth: Any = "") -> dict:
    if legacy and source.get("version") == 1:
        ports, container_ports = [source.get("port")], [source.get("containerPort")]
    else:
        ports, container_ports = _list(source.get("ports")), _list(source.get("containerPorts"))
    ports = [_number(port) for port in ports]
    container_ports = [_number(port) for port in container_ports]
    domains = source.get("domains")
    if not isinstance(domains, list):
        domains = [""] * len(ports)
    env = source.get("enviromentParameters" if legacy else "environmentParameters")
    return {
        "name": name if name is not None else source.get("name"),
        "description": source.get("description"),
        "repotag": source.get("repotag"),
        "ports": ports,
        "domains": domains,
        "environmentParameters": env if env is not None else [],
        "commands": source.get("commands") if source.get("commands") is not None else [],
        "containerPorts": container_ports,
        "containerData": source.get("containerData"),
        "cpu": source.get("cpu") or 0,
        "ram": source.get("ram") or 0,
        "hdd": source.get("hdd") or 0,
        "repoauth": repoauth,
    }


def upgrade_to_v8(spec: dict, height: int) -> dict:
    """FluxOS's updateToLatestAppSpecifications with its caveats fixed (see the module doc).
    A v8 spec comes back as it is (minus `hash`/`height`)."""
    version = spec.get("version")
    if version == 8:
        return {k: v for k, v in spec.items() if k not in ("hash", "height")}
    if version not in VERSIONS:
        raise ImportRefused(f"Unknown specification version {version!r}: FluxOS knows versions 1 to 8.")
    legacy = version <= 3
    if legacy:
        compose = [_component(spec, legacy=True, name=spec.get("name"))]
    else:
        components = spec.get("compose") if isinstance(spec.get("compose"), list) else []
        compose = [_component(c if isinstance(c, dict) else {}, legacy=False,
                              repoauth=(c.get("repoauth", "") if version == 7 and isinstance(c, dict) else ""))
                   for c in components]
    month = pricing.default_expire(height)
    return {
        "version": 8,
        "name": spec.get("name"),
        "description": spec.get("description"),
        "owner": spec.get("owner"),
        "compose": compose,
        "instances": spec.get("instances", 3) if version >= 3 else 3,
        "contacts": spec.get("contacts", []) if version >= 5 else [],
        "geolocation": spec.get("geolocation", []) if version >= 5 else [],
        "expire": spec.get("expire", month) if version >= 6 else month,
        "nodes": [],  # FluxOS: v7 nodes "were used for different thing"
        "staticip": bool(spec.get("staticip")) if version == 7 else False,
        "enterprise": "",
    }


def import_spec(text: str, height: int) -> tuple[dict, int]:
    """(the v8 spec in FluxOS's canonical form, the version pasted), or ImportRefused."""
    original = parse_paste(text)
    version = original["version"]
    try:
        check_spec(original, height)
    except SpecError as exc:
        raise ImportRefused(f"FluxOS refuses this v{version} specification: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a hostile paste must not 500 the page
        raise ImportRefused(f"FluxOS refuses this v{version} specification: {exc}") from None
    upgraded = upgrade_to_v8(format_spec(original), height)
    try:
        formatted = check_spec(upgraded, height)
    except SpecError as exc:
        raise ImportRefused(f"After the upgrade to v8, FluxOS refuses it: {exc}") from None
    return formatted, version
