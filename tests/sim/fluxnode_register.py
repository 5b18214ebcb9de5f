"""App registration routes of a simulated node: spec checks, price, register/update (§4.5, §5),
and the temporary messages they leave (kept for FluxOS's hour, served by /apps/temporarymessages)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re

from aiohttp import web

from tests.sim.fluxnode_apps import iso_time
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


# FluxOS config.fluxapps: a node refuses to register/update with fewer peers than these.
MIN_OUTGOING, MIN_INCOMING = 8, 4
# Timestamp window of registerAppGlobalyApi / updateAppGlobaly: [now - 1 h, now + 5 min].
MAX_AGE_MS, MAX_AHEAD_MS = 3600 * 1000, 5 * 60 * 1000
# serviceManager: the temporary messages collection has a TTL index on receivedAt (tempMsgTtlS).
TEMP_MESSAGE_TTL_MS = 3600 * 1000
# Faults of the submit routes only, applied *after* the message was accepted and stored (the node
# broadcast it, then hung, failed or dropped the connection before answering): what makes a retry
# that must not register twice. Set with set_submit_fault (tests, through SimFleet.call).
SUBMIT_FAULTS = ("hang", "http500", "reset")
SUBMIT_HANG_S = 30


def set_submit_fault(fleet, index: int, kind: str | None) -> None:
    """`kind` in SUBMIT_FAULTS for node `index`'s next submits, or None to clear it."""
    faults = fleet.__dict__.setdefault("submit_faults", {})
    if kind is None:
        faults.pop(index, None)
    elif kind not in SUBMIT_FAULTS:
        raise ValueError(f"unknown submit fault {kind!r}")
    else:
        faults[index] = kind


def require_peers(fleet, on: bool = True) -> None:
    """Apply FluxOS's peer rule to submits (refuse below MIN_OUTGOING / MIN_INCOMING peers).

    Off unless a test turns it on: a simulated node's peers are only the fleet's other nodes, so in
    a small test fleet (2 or 12 nodes) every node is under-connected and nothing could register.
    Tests that turn it on give their nodes peers with connect_peers."""
    fleet.__dict__["peer_rule"] = bool(on)


def connect_peers(fleet, index: int, outgoing: int = MIN_OUTGOING, incoming: int = MIN_INCOMING):
    """Give node `index` that many outgoing and incoming peers among the fleet's other nodes (the
    lists /flux/connectedpeers and /flux/incomingconnections report); returns the previous lists
    for restore_peers."""
    identity = fleet.identity(index)
    previous = (list(identity.peers_out), list(identity.peers_in))
    others = [i for i in range(fleet.count) if i != index]
    identity.peers_out = [others[i % len(others)] for i in range(outgoing)] if others else []
    identity.peers_in = [others[-1 - i % len(others)] for i in range(incoming)] if others else []
    fleet.node(index).cache.clear()
    return previous


def restore_peers(fleet, index: int, previous) -> None:
    identity = fleet.identity(index)
    identity.peers_out, identity.peers_in = list(previous[0]), list(previous[1])
    fleet.node(index).cache.clear()


def temporary_messages(fleet, now_ms: int) -> dict:
    """The fleet's temporary messages still within their hour (older ones are dropped, as
    MongoDB's TTL monitor drops them)."""
    store = fleet.temporary
    for message in store.values():
        message.setdefault("_received", now_ms)  # put there by a test: its hour starts now
    for digest in [d for d, m in store.items() if now_ms - m["_received"] >= TEMP_MESSAGE_TTL_MS]:
        del store[digest]
    return store


def _public(message: dict) -> dict:
    return {key: value for key, value in message.items() if not key.startswith("_")}


def apps_temporarymessages(ctx):
    """messageVerifier.getAppsTemporaryMessages: every message, or the one with `hash` (path or
    query), `_id` left out."""
    wanted = ctx.param(0, "hash")
    store = temporary_messages(ctx.fleet, ctx.now)
    return ok([_public(m) for digest, m in store.items() if not wanted or digest == wanted])


def _js_falsy(value) -> bool:
    return value is None or value is False or value == "" or (type(value) in (int, float) and value == 0)


def _refusal(ctx, route: str, body: dict):
    """FluxOS's refusal text for this submit, in FluxOS's order, or None when it is accepted."""
    register = route == "appregister"
    action = "registration" if register else "update"
    peer_rule = getattr(ctx.fleet, "peer_rule", False)
    if peer_rule and len(ctx.node.id.peers_out) < MIN_OUTGOING:
        return f"Sorry, This Flux does not have enough outgoing peers for safe application {action}"
    if peer_rule and len(ctx.node.id.peers_in) < MIN_INCOMING:
        return f"Sorry, This Flux does not have enough incoming peers for safe application {action}"
    fields = ("appSpecification", "timestamp", "signature", "type", "version")
    if any(_js_falsy(body.get(key)) for key in fields):
        if register:
            return ("Incomplete message received. Check if appSpecification, type, version, "
                    "timestamp and signature are provided.")
        return ("Incomplete message received. Check if appSpecification, timestamp, type, version "
                "and signature are provided.")
    wanted = "fluxappregister" if register else "fluxappupdate"
    if body["type"] not in (wanted, wanted.replace("flux", "zel", 1)):
        return "Invalid type of message"
    if type(body["version"]) not in (int, float) or body["version"] != 1:  # JS `!== 1`
        return "Invalid version of message"
    try:
        timestamp = float(body["timestamp"])
    except (TypeError, ValueError):
        timestamp = float("nan")
    if timestamp < ctx.now - MAX_AGE_MS:
        return ("Message timestamp is over 1 hour old, not valid. Check if your computer clock is "
                "synced and restart the registration process.")
    if timestamp > ctx.now + MAX_AHEAD_MS:
        return ("Message timestamp from future, not valid. Check if your computer clock is synced "
                "and restart the registration process.")
    return None


async def apps_submit(ctx):
    route = ctx.segments[1]
    body = await ctx.stream_object()
    if not ctx.allowed("user"):
        return UNAUTHORIZED
    refusal = _refusal(ctx, route, body)
    if refusal:
        return err(refusal, "Error")
    try:
        spec = format_spec(ensure_object(body["appSpecification"]))
    except ValueError as exc:
        return err(str(exc), "Error")
    existing = ctx.fleet.find_app(spec["name"])
    if route == "appregister" and existing is not None:
        return err(f"Flux App {spec['name']} already registered. Flux App has to be registered "
                   "under different name.", "Error")
    if route == "appupdate" and existing is None:
        return err("Flux App update received but application to update does not exist!", "Error")
    signer = spec["owner"] if route == "appregister" else existing.spec["owner"]
    timestamp = body["timestamp"]
    if isinstance(timestamp, float) and timestamp.is_integer():
        timestamp = int(timestamp)  # JS prints 1.7e12 as 1700000000000
    message = f"{body['type']}1{json.dumps(spec, separators=(',', ':'), ensure_ascii=False)}{timestamp}"
    if not signature_ok(message, signer, str(body["signature"])):
        if route == "appregister":
            return err("Received signature is invalid or Flux App specifications are not properly "
                       "formatted", "Error")
        return err("Received signature does not correspond with Flux App owner or Flux App "
                   "specifications are not properly formatted", "Error")
    digest = hashlib.sha256((message + str(body["signature"])).encode()).hexdigest()
    store = temporary_messages(ctx.fleet, ctx.now)
    if digest not in store:  # storeAppTemporaryMessage: a message already held is not stored again
        store[digest] = {"appSpecifications": spec, "type": body["type"], "version": 1,
                         "hash": digest, "timestamp": timestamp, "signature": body["signature"],
                         "receivedAt": iso_time(ctx.now),
                         "expireAt": iso_time(ctx.now + TEMP_MESSAGE_TTL_MS),
                         "arcaneSender": False, "_received": ctx.now}
    fault = getattr(ctx.fleet, "submit_faults", {}).get(ctx.node.index)
    if fault == "http500":
        return web.Response(status=500, text="Internal Server Error")
    if fault == "reset":
        ctx.fleet.drop_connection(ctx.request)
        return web.Response(status=204)
    if fault == "hang":
        await asyncio.sleep(SUBMIT_HANG_S)
        ctx.fleet.drop_connection(ctx.request)
        return web.Response(status=204)
    return ok(digest)
