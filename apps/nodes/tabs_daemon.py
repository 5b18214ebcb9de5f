"""Live tabs about the node itself: daemon (sync against the network height), peers (against
FluxOS's minimums) and node services (ArcaneOS, DOS, versions against the fleet's newest)."""
from __future__ import annotations

from apps.nodes.models import NodeSnapshot
from apps.nodes.probe import network_height, version_key
from apps.nodes.tabs_common import (
    DASH,
    MAX_ROWS,
    Check,
    mapping,
    number,
    optional,
    rows,
    shaped,
    text,
    whole,
)

# fluxview calls a daemon "SYNCED" when it is fewer than 5 blocks behind (anchors §1b).
SYNCED_WITHIN_BLOCKS = 5
# FluxOS config fluxapps.minOutgoing / minIncoming: /flux/checkcommunication fails below them and
# a node refuses app registrations ("not enough outgoing peers").
MIN_OUTGOING, MIN_INCOMING = 8, 4
# FluxOS config minimumFluxBenchAllowedVersion: below it a node goes DOS ("Fluxbench Version Error").
MIN_BENCH_VERSION = "6.2.0"
FLEET_VERSIONS_MAX = 100


def fleet_height(team_id: int) -> int | None:
    """The network height as the fleet's last sweep saw it (probe.network_height's rule)."""
    top = list(NodeSnapshot.objects.filter(team_id=team_id, height__isnull=False)
               .order_by("-height").values_list("height", flat=True)[:3])
    return network_height(top)


def sync_state(blocks: int | None, network: int | None) -> tuple[str, int | None]:
    if blocks is None:
        return "unknown: the daemon's height is not a number", None
    if network is None:
        return "unknown: no network height yet (the fleet was not swept)", None
    behind = max(0, network - blocks)
    if behind < SYNCED_WITHIN_BLOCKS:
        return "synced", behind
    return f"behind by {behind} blocks", behind


def daemon(client, node) -> dict:
    info = mapping(optional(client.daemon_getinfo, {}))
    chain = mapping(optional(client.blockchain_info, {}))
    status = mapping(shaped(client.flux_node_status, {}))
    dos = mapping(shaped(client.dos_state, {}))
    block_count = number(client.block_count, "block count")
    blocks = whole(block_count) if block_count.isdigit() else None
    network = fleet_height(node.team_id)
    state, behind = sync_state(blocks, network)
    headers = whole(chain.get("headers"))
    return {
        "version": text(shaped(client.version, "")),
        "uptime": number(client.uptime, "uptime"),
        "block_count": block_count,
        "network_height": DASH if network is None else str(network),
        "sync": state, "synced": behind is not None and behind < SYNCED_WITHIN_BLOCKS,
        "behind": behind,
        "headers": DASH if headers is None else str(headers),
        "connections": text(whole(info.get("connections"))),
        "daemon_version": text(whole(info.get("version"))),
        "daemon_errors": text(info.get("errors")) if info.get("errors") else "",
        "status": text(status.get("status")), "tier": text(status.get("tier")),
        "last_confirmed": text(whole(status.get("last_confirmed_height"))),
        "dos_state": text(dos.get("dosState")),
        "dos_message": text(dos.get("dosMessage")) if dos.get("dosMessage") else "",
    }


def peers(client, node) -> dict:
    outgoing, incoming = shaped(client.connected_peers, []), shaped(client.incoming_connections, [])
    out_count = len(outgoing) if isinstance(outgoing, list) else 0
    in_count = len(incoming) if isinstance(incoming, list) else 0
    checks = [
        Check("Outgoing", str(out_count), f"≥ {MIN_OUTGOING}", out_count >= MIN_OUTGOING),
        Check("Incoming", str(in_count), f"≥ {MIN_INCOMING}", in_count >= MIN_INCOMING),
    ]
    return {
        "outgoing": [text(p) for p in rows(outgoing)], "incoming": [text(p) for p in rows(incoming)],
        "outgoing_count": out_count, "incoming_count": in_count, "checks": checks,
        "enough": all(c.ok for c in checks),
    }


def newest_fleet_version(team_id: int) -> str:
    versions = (NodeSnapshot.objects.filter(team_id=team_id).exclude(version="")
                .values_list("version", flat=True).distinct()[:FLEET_VERSIONS_MAX])
    return max(versions, key=version_key, default="")


def version_check(label: str, version, newest: str, *, what: str) -> Check:
    shown = text(version)
    if shown == DASH or not newest:
        return Check(label, shown, newest or DASH, None, "nothing to compare with")
    ok = version_key(shown) >= version_key(newest)
    return Check(label, shown, f"{what} {newest}", ok, "" if ok else f"older than {what} {newest}")


def services(client, node) -> dict:
    """One /flux/info call: it carries every version, the DOS state and ArcaneOS."""
    info = mapping(client.info())
    flux, bench = mapping(info.get("flux")), mapping(info.get("benchmark"))
    daemon_info = mapping(mapping(info.get("daemon")).get("info"))
    dos = mapping(flux.get("dos"))
    dos_state = whole(dos.get("dosState"))
    newest = newest_fleet_version(node.team_id)
    bench_version = mapping(bench.get("info")).get("version")
    checks = [
        version_check("FluxOS", flux.get("version"), newest, what="the fleet's newest"),
        version_check("Fluxbench", bench_version, MIN_BENCH_VERSION, what="FluxOS's minimum"),
        Check("Daemon", text(daemon_info.get("version")), DASH, None,
              "the sweep keeps no daemon versions to compare with"),
    ]
    return {
        "arcane": "arcaneVersion" in flux,
        "arcane_version": text(flux.get("arcaneHumanVersion") or flux.get("arcaneVersion")),
        "dos_state": DASH if dos_state is None else str(dos_state),
        "dos_ok": dos_state == 0 and not dos.get("dosMessage"),
        "dos_message": text(dos.get("dosMessage")) if dos.get("dosMessage") else "",
        "checks": checks,
        "others": [(label, text(flux.get(key))) for label, key in (
            ("Syncthing", "syncthingVersion"), ("Docker", "dockerVersion"),
            ("Node.js", "nodeJsVersion"), ("MongoDB", "mongoDbVersion"), ("OS", "osPrettyName"))],
        "apps_dos": text(mapping(flux.get("appsDos")).get("dosMessage")) if mapping(
            flux.get("appsDos")).get("dosMessage") else "",
        "rows_max": MAX_ROWS,
    }
