"""Payments of the simulated network: what FluxOS does once a temporary app message is paid.

FluxOS's explorer sees a transaction to the deployment address whose OP_RETURN is a temporary
message's hash (paid enough): `messageVerifier.checkAndRequestApp` stores the message as a
*permanent* message (`{type, version, appSpecifications, hash, timestamp, signature, txid, height,
valueSat}`) and the spec goes in force: a new app is registered and gets its instances, an update
replaces the app's spec (its `hash` and `height` are the message's).

Control routes (wired in fluxnode_server):
- `POST /_sim/payments {"hash": "<64 hex>"[, "valueSat": n]}` pays a temporary message;
- `POST /_sim/payments/plant {"node": i, "route": "deploymentinformation"|"appspecifications",
  "data": <anything>}` makes node `i` answer that route with `data` in the success envelope (a
  hostile node); without `data` the node answers as usual again.
"""

from __future__ import annotations

import copy
import hashlib

from tests.sim import fluxnode_routes as r
from tests.sim.fluxnode_world import CatalogueApp

HEX64 = frozenset("0123456789abcdef")


def pay(fleet, hash_: str, value_sat: int | None = None) -> dict:
    """Move temporary message `hash_` to the permanent messages and put its spec in force."""
    if not isinstance(hash_, str) or len(hash_) != 64 or not set(hash_) <= HEX64:
        raise ValueError("hash must be 64 lower-case hex characters")
    message = fleet.temporary.get(hash_)
    if message is None:
        raise KeyError("no temporary message with that hash (never sent, or its hour ended)")
    spec = copy.deepcopy(message.get("appSpecifications") or message.get("appSpecification"))
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise ValueError("the temporary message has no app specification")
    height = fleet.chain.height()
    permanent = {
        "type": message.get("type", "fluxappregister"), "version": message.get("version", 1),
        "appSpecifications": copy.deepcopy(spec), "hash": hash_,
        "timestamp": message.get("timestamp"), "signature": message.get("signature"),
        "txid": hashlib.sha256(f"payment:{hash_}".encode()).hexdigest(), "height": height,
        "valueSat": int(value_sat) if value_sat is not None else 100_000_000,
    }
    in_force = {**spec, "hash": hash_, "height": height}
    entry = fleet.find_app(spec["name"])
    if entry is None:
        entry = _register(fleet, in_force, permanent)
    else:
        _update(fleet, entry, in_force, permanent)
    del fleet.temporary[hash_]
    for node in fleet._nodes.values():
        node.cache.clear()  # a world event: every node knows it at once
    return {"app": entry.name, "hash": hash_, "height": height, "nodes": list(entry.nodes),
            "txid": permanent["txid"]}


def _register(fleet, spec: dict, permanent: dict) -> CatalogueApp:
    wanted = max(1, min(fleet.count, int(spec.get("instances") or 1)))
    start = int(spec["hash"][:8], 16) % fleet.count
    nodes = sorted((start + step) % fleet.count for step in range(wanted))
    entry = CatalogueApp(spec=spec, nodes=[], seed=fleet.seed, _messages=[permanent])
    fleet.catalogue[entry.name] = entry
    fleet._by_lower[entry.name.lower()] = entry
    for index in nodes:
        fleet._node_apps.setdefault(index, []).append(entry.name)
        node = fleet._nodes.get(index)
        if node is not None:  # nodes made later read apps_on_node themselves
            node.reinstall_app(entry.name)
        elif index not in entry.nodes:
            entry.nodes.append(index)
    entry.nodes.sort()
    return entry


def _update(fleet, entry: CatalogueApp, spec: dict, permanent: dict) -> None:
    entry.messages().append(permanent)
    entry.spec = spec
    for index in list(entry.nodes):
        node = fleet._nodes.get(index)
        if node is not None and entry.name in node.apps:
            node.reinstall_app(entry.name)  # the new spec's containers


# --------------------------------------------------------------------------- hostile answers

PLANTABLE = {"deploymentinformation": r.apps_deploymentinformation,
             "appspecifications": r.apps_appspecifications}


def _planted_or(route: str):
    def handler(ctx):
        planted = getattr(ctx.node, "planted_answers", {})
        if route in planted:
            return r.ok(planted[route])
        return PLANTABLE[route](ctx)

    handler.__name__ = f"apps_{route}"
    return handler


# The routes a test may make one node lie on (TTLs as in fluxnode_server's table).
ROUTES = {("apps", "deploymentinformation"): (_planted_or("deploymentinformation"), 30),
          ("apps", "appspecifications"): (_planted_or("appspecifications"), 0)}


def plant(fleet, index: int, route: str, data=None, *, restore: bool = False) -> None:
    """Node `index` answers `/apps/<route>` with `data` (in FluxOS's envelope), or as usual again."""
    if route not in PLANTABLE:
        raise ValueError(f"only {sorted(PLANTABLE)} can be planted")
    node = fleet.node(index)
    planted = node.__dict__.setdefault("planted_answers", {})
    if restore:
        planted.pop(route, None)
    else:
        planted[route] = data
    node.cache.clear()


async def admin(fleet, request, parts: list[str], read_json):
    """`/_sim/payments…` control routes; None when the path is not one of them."""
    from aiohttp import web

    if parts == ["payments"] and request.method == "POST":
        body = await read_json(request)
        try:
            return web.json_response(pay(fleet, body.get("hash"), body.get("valueSat")))
        except KeyError as exc:
            return web.json_response({"error": str(exc.args[0])}, status=404)
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
    if parts == ["payments", "plant"] and request.method == "POST":
        body = await read_json(request)
        try:
            plant(fleet, int(body.get("node")), str(body.get("route")), body.get("data"),
                  restore="data" not in body)
        except (TypeError, ValueError, KeyError) as exc:
            return web.json_response({"error": f"bad request: {exc}"}, status=400)
        return web.json_response({"node": int(body["node"]), "route": body["route"], "planted": "data" in body})
    return None
