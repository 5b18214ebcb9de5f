"""Explorer, Syncthing and failing-benchmark answers of a simulated node, in FluxOS's shapes.

Explorer (explorerService.js, Mongo index): `/explorer/balance/:address` is the sum of the
address's unspent outputs in satoshis (a bare integer); `/explorer/utxo/:address` the unspent
outputs `{txid, vout, height, address, satoshis, scriptPubKey, coinbase}`; a missing address is
the error envelope "No address provided". The sim's node rewards are coinbase outputs to the
node's payment address, one every PAY_INTERVAL blocks, deterministic per node.

Syncthing (syncthingService.js passes Syncthing's REST answers through inside the envelope):
`/syncthing/health` `{status: "OK"}`, `/syncthing/system/connections` `{connections: {id: {...}},
total: {...}}`, `/syncthing/config/folders` a list of folder configs, `/syncthing/db/status/:folder`
the folder's state. Folder ids follow FluxOS's app identifiers (`flux<component>_<app>`).

Faults (SimNode.set_fault): `bench_fail` (figure=, value=: fluxbench reports that figure low and
the tier as failed, with its reason), `explorer_garbage` (the explorer answers nonsense),
`syncthing_error` (one app folder in state "error").
"""

from __future__ import annotations

from tests.sim.fluxnode_routes import err, ok
from tests.sim.fluxnode_world import hex_id

# fluxbench's version: at least FluxOS's minimumFluxBenchAllowedVersion (6.2.0), below which a
# real node goes DOS ("Fluxbench Version Error").
BENCH_VERSION = "6.2.1"
PAY_INTERVAL = 700  # blocks between two rewards of one simulated node
REWARDS_KEPT = 40  # unspent reward outputs the sim keeps per address
REWARD_SAT = {"CUMULUS": 281_250_000, "NIMBUS": 468_750_000, "STRATUS": 1_125_000_000}  # sim figures


def reward_outputs(node) -> list[dict]:
    ident = node.id
    tip = node.fleet.chain.height()
    last = tip - (node.index * 13) % 900 - 1  # the same last paid height getfluxnodestatus says
    amount = REWARD_SAT.get(ident.tier, 10_000_000)
    outputs = []
    for n in range(REWARDS_KEPT):
        height = last - n * PAY_INTERVAL
        outputs.append({"txid": hex_id("reward", ident.txhash, height), "vout": 1, "height": height,
                        "address": ident.payment_address, "satoshis": amount,
                        "scriptPubKey": "76a914" + hex_id("spk", ident.payment_address, length=40) + "88ac",
                        "coinbase": True})
    return outputs


def _address(ctx):
    return ctx.param(0, "address")


def explorer_balance(ctx):
    node, address = ctx.node, _address(ctx)
    if not address:
        return err("No address provided")
    if "explorer_garbage" in node.extra_faults:
        return ok({"balance": "lots"})
    if address != node.id.payment_address:
        return ok(0)
    return ok(sum(o["satoshis"] for o in reward_outputs(node)))


def explorer_utxo(ctx):
    node, address = ctx.node, _address(ctx)
    if not address:
        return err("No address provided")
    if "explorer_garbage" in node.extra_faults:
        return ok([{"height": "yesterday", "satoshis": -5}, "junk"])
    return ok(reward_outputs(node) if address == node.id.payment_address else [])


def explorer_issynced(ctx):
    return ok(True)


def device_id(*parts) -> str:
    raw = hex_id("device", *parts, length=56).upper()
    return "-".join(raw[i:i + 7] for i in range(0, 56, 7))


def syncthing_folders(node) -> list[dict]:
    folders = []
    for name, app in list(node.apps.items())[:20]:
        components = app.spec.get("compose") or [{"name": name}]
        for component in components:
            folder_id = f"flux{component.get('name', name)}_{name}"
            folders.append({"id": folder_id, "label": folder_id, "path": f"/dat/appvolumes/{folder_id}",
                            "type": "sendreceive", "paused": False,
                            "devices": [{"deviceID": device_id(node.index)}]})
    return folders


def syncthing_health(ctx):
    return ok({"status": "OK"})


def syncthing_connections(ctx):
    peers = ctx.node.id.peers_out[:3]
    connections = {device_id(i): {"connected": True, "paused": False, "address": f"tcp://10.0.0.{i}:22000",
                                  "clientVersion": "v1.27.12", "type": "tcp-client"} for i in peers}
    return ok({"connections": connections,
               "total": {"at": "2026-01-01T00:00:00Z", "inBytesTotal": 1000, "outBytesTotal": 2000}})


def syncthing_config_folders(ctx):
    return ok(syncthing_folders(ctx.node))


def syncthing_db_status(ctx):
    folder = ctx.param(1, "folder")  # /syncthing/db/status/<folder>
    if not folder:
        return err("folder parameter is mandatory")
    ids = [f["id"] for f in syncthing_folders(ctx.node)]
    if folder not in ids:
        return err("Request failed with status code 404", "AxiosError", "ERR_BAD_REQUEST")
    broken = "syncthing_error" in ctx.node.extra_faults and folder == ids[0]
    return ok({"state": "error" if broken else "idle", "stateChanged": "2026-01-01T00:00:00Z",
               "needFiles": 3 if broken else 0, "needBytes": 4096 if broken else 0,
               "errors": 1 if broken else 0, "pullErrors": 1 if broken else 0,
               "globalFiles": 12, "localFiles": 12 - (3 if broken else 0), "inSyncFiles": 12 - (3 if broken else 0)})


def failing_benchmarks(node, bench: dict) -> dict:
    """fluxbench's answer when one figure is below the tier's minimum: that figure, no tier."""
    fault = node.extra_faults.get("bench_fail")
    if fault is None:
        return bench
    figure, value = str(fault.get("figure", "ram")), fault.get("value", 0)
    failed = dict(bench, status="FAILED")
    failed[figure] = value
    failed["error"] = f"Minimum {figure} requirement for {node.id.tier} not met ({value})"
    return failed


def failing_bench_status(node, status: dict) -> dict:
    if "bench_fail" not in node.extra_faults:
        return status
    return dict(status, benchmarking="failed")


def syncthing_nested(ctx):
    """/syncthing/<area>/<name>/…: the route table keys on two segments; these go by the third."""
    handler = NESTED.get(tuple(ctx.segments[:3]))
    if handler is None:
        return err(f"Cannot GET /{'/'.join(ctx.segments)}")
    return handler(ctx)


NESTED = {
    ("syncthing", "system", "connections"): syncthing_connections,
    ("syncthing", "config", "folders"): syncthing_config_folders,
    ("syncthing", "db", "status"): syncthing_db_status,
}
ROUTES = {
    ("explorer", "balance"): (explorer_balance, 30),
    ("explorer", "utxo"): (explorer_utxo, 30),
    ("explorer", "issynced"): (explorer_issynced, 30),
    ("syncthing", "health"): (syncthing_health, 30),
    ("syncthing", "system"): (syncthing_nested, 30),
    ("syncthing", "config"): (syncthing_nested, 30),
    ("syncthing", "db"): (syncthing_nested, 30),
}
