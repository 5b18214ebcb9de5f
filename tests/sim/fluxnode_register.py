"""App registration routes of a simulated node: spec checks, price, register/update (§4.5, §5)."""

from __future__ import annotations

import hashlib
import json
import re

from tests.sim.fluxnode_auth import signature_ok
from tests.sim.fluxnode_routes import (
    UNAUTHORIZED,
    ensure_object,
    err,
    ok,
)

# --------------------------------------------------------------------------- apps: register


SPEC_KEYS = ("version", "name", "description", "owner", "compose", "instances", "contacts",
             "geolocation", "expire", "nodes", "staticip", "datacenter", "enterprise")
COMPONENT_KEYS = ("name", "description", "repotag", "ports", "domains", "environmentParameters",
                  "commands", "containerPorts", "containerData", "cpu", "ram", "hdd", "repoauth")
APP_NAME = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$")


# The enterprise app owners of FluxOS's helpers/enterprisenodes.json (845aa9b), written out here
# rather than imported so the simulator does not share the panel's reading of that file.
SIM_ENTERPRISE_OWNERS = frozenset({
    "15ULw4JU6wqGESRYU3z3MjFETqLN3sA9Gn", "16FPpesA783sYXXSUf9grXKaj3KN3EeLK3",
    "1GM41a9A4rH8CCkCyzDRahHUccuTRLhoDe",
})


def _js_boolean(value):
    """serviceHelper.ensureBoolean, independently: None stands for `undefined`."""
    if value in ("true", "1") or value is True or (type(value) in (int, float) and value == 1):
        return True
    if value in ("false", "0") or value is False or (type(value) in (int, float) and value == 0):
        return False
    return None


def format_spec(spec: dict) -> dict:
    """A light stand-in for specificationFormatter (v8 key order, unknown keys dropped)."""
    if not isinstance(spec, dict) or spec.get("version") != 8:
        raise ValueError("The simulator only validates version 8 specifications")
    missing = [key for key in SPEC_KEYS if key not in spec and key != "datacenter"]
    if missing:
        raise ValueError(f"Missing Flux App specification parameter {missing[0]}")
    out = {key: spec[key] for key in SPEC_KEYS if key in spec}
    # FluxOS runs serviceHelper.ensureBoolean on datacenter and leaves out what is not a boolean.
    datacenter = _js_boolean(spec.get("datacenter"))
    out.pop("datacenter", None)
    if datacenter is not None:
        if datacenter and spec.get("owner") not in SIM_ENTERPRISE_OWNERS:
            raise ValueError("Datacenter requirement is only available for enterprise app owners.")
        out = {key: (datacenter if key == "datacenter" else out[key])
               for key in SPEC_KEYS if key in out or key == "datacenter"}
    out["compose"] = [{key: component.get(key) for key in COMPONENT_KEYS}
                      for component in spec["compose"]]
    name = out["name"]
    if not isinstance(name, str) or not APP_NAME.match(name) or len(name) > 63:
        raise ValueError("Flux App name contains special characters. Only a-z, A-Z and 0-9 are allowed")
    return out


async def apps_verifyregistration(ctx):
    spec = ensure_object(await ctx.stream_object())
    try:
        formatted = format_spec(spec)
    except ValueError as exc:
        return err(str(exc))
    if ctx.fleet.find_app(formatted["name"]) is not None:
        return err(f"Flux App {formatted['name']} already registered. Flux App has to be "
                   "registered under different name.")
    return ok(formatted)


async def apps_verifyupdate(ctx):
    spec = ensure_object(await ctx.stream_object())
    try:
        formatted = format_spec(spec)
    except ValueError as exc:
        return err(str(exc))
    if ctx.fleet.find_app(formatted["name"]) is None:
        return err(f"Flux App {formatted['name']} does not exist and cannot be updated")
    return ok(formatted)


async def apps_calculateprice(ctx):
    """A simplified price (not FluxOS's full algorithm, which fluxpanel.fluxos.pricing owns)."""
    spec = await ctx.stream_object()
    try:
        formatted = format_spec(spec)
    except ValueError as exc:
        return err(str(exc))
    compose = formatted["compose"]
    per_month = (sum(c["cpu"] for c in compose) * 0.15 * 10 + sum(c["ram"] for c in compose) * 0.05 / 100
                 + sum(c["hdd"] for c in compose) * 0.02) / 3 * formatted["instances"]
    usd = max(0.99, round(per_month * (formatted["expire"] or 88000) / 88000, 2))
    return ok({"usd": usd, "flux": round(usd / 0.6 * 0.95, 2), "fluxDiscount": 5})


async def apps_submit(ctx):
    route = ctx.segments[1]
    body = await ctx.stream_object()
    if not ctx.allowed("user"):
        return UNAUTHORIZED
    fields = ("appSpecification", "type", "version", "timestamp", "signature")
    if any(body.get(key) in (None, "") for key in fields):
        return err("Incomplete message received. Check if appSpecification, type, version, "
                   "timestamp and signature are provided.")
    wanted = "fluxappregister" if route == "appregister" else "fluxappupdate"
    if body["type"] not in (wanted, wanted.replace("flux", "zel", 1)):
        return err("Invalid type of message")
    if str(body["version"]) != "1":
        return err("Invalid version of message")
    try:
        spec = format_spec(ensure_object(body["appSpecification"]))
    except ValueError as exc:
        return err(str(exc))
    existing = ctx.fleet.find_app(spec["name"])
    if route == "appregister" and existing is not None:
        return err(f"Flux App {spec['name']} already registered. Flux App has to be registered "
                   "under different name.")
    if route == "appupdate" and existing is None:
        return err(f"Flux App {spec['name']} does not exist and cannot be updated")
    signer = spec["owner"] if route == "appregister" else existing.spec["owner"]
    message = f"{body['type']}1{json.dumps(spec, separators=(',', ':'), ensure_ascii=False)}{body['timestamp']}"
    if not signature_ok(message, signer, str(body["signature"])):
        if route == "appregister":
            return err("Received signature is invalid or Flux App specifications are not properly formatted")
        return err("Received signature does not correspond with Flux App owner or Flux App "
                   "specifications are not properly formatted")
    digest = hashlib.sha256((message + str(body["signature"])).encode()).hexdigest()
    ctx.fleet.temporary[digest] = {"type": body["type"], "appSpecifications": spec,
                                   "timestamp": body["timestamp"], "signature": body["signature"]}
    return ok(digest)
