"""The team's fleet against the network: share per tier, versions behind, benchmark standing.
Pure functions over parse.Figures and the team's node rows; no Django import."""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from apps.network.parse import TIERS, VERSION, Figures, version_tuple

# A version counts as released when at least this share of the network runs it, so one node
# claiming version 99.0.0 does not put the whole fleet "behind".
RELEASED_SHARE = 0.01


@dataclass(frozen=True)
class TeamNode:
    tier: str
    version: str
    ip: str | None  # parse.ip_key of the node's address


def percent(part: int | float, whole: int | float) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def tier_shares(figures: Figures, nodes: list[TeamNode]) -> list[dict]:
    """Per tier: the network's nodes, the team's, and the team's share of the network's."""
    rows = []
    for tier in TIERS:
        network = int(figures.tiers.get(tier, 0))
        team = sum(1 for node in nodes if node.tier.upper() == tier)
        rows.append({"tier": tier, "network": network, "team": team, "share": percent(team, network)})
    return rows


def released_versions(figures: Figures) -> list[str]:
    """The versions at least RELEASED_SHARE of the network runs, newest first."""
    floor = RELEASED_SHARE * max(figures.nodes, 1)
    found = [v for v, count in figures.versions.items() if VERSION.match(v) and count >= floor]
    return sorted(found, key=version_tuple, reverse=True)


def versions_behind(version: str, released: list[str]) -> int | None:
    """How many released versions are newer than `version` (None when it is not a version)."""
    if not version or not VERSION.match(version):
        return None
    mine = version_tuple(version)
    return sum(1 for v in released if version_tuple(v) > mine)


def version_standing(figures: Figures, nodes: list[TeamNode]) -> dict:
    """The newest released version and the team's nodes per "versions behind" (0 = current)."""
    released = released_versions(figures)
    counts: dict = {}
    for node in nodes:
        behind = versions_behind(node.version, released)
        key = "unknown" if behind is None else behind
        counts[key] = counts.get(key, 0) + 1
    numbered = sorted((k, v) for k, v in counts.items() if k != "unknown")
    rows = [{"behind": k, "nodes": v} for k, v in numbered]
    if "unknown" in counts:
        rows.append({"behind": "unknown", "nodes": counts["unknown"]})
    return {"newest": released[0] if released else "", "rows": rows,
            "current": counts.get(0, 0), "total": len(nodes)}


def percentile(value: float, points: list[float]) -> float | None:
    """Where `value` stands among the network's quantile points, 0–100 (ties count half)."""
    if not points:
        return None
    below, upto = bisect_left(points, value), bisect_right(points, value)
    return round(100.0 * (below + upto) / 2 / len(points), 1)


def benchmark_standing(figures: Figures, nodes: list[TeamNode]) -> list[dict]:
    """Per tier with team nodes the network knows: the network's median EPS, the team's median
    and its median percentile, and how many team nodes are in the network's lowest tenth."""
    rows = []
    for tier in TIERS:
        points = figures.eps.get(tier) or []
        mine = sorted(figures.eps_by_ip[node.ip] for node in nodes
                      if node.tier.upper() == tier and node.ip in figures.eps_by_ip)
        if not points or not mine:
            continue
        ranks = sorted(percentile(eps, points) for eps in mine)
        rows.append({"tier": tier, "network_median": points[len(points) // 2],
                     "team_median": mine[len(mine) // 2], "percentile": ranks[len(ranks) // 2],
                     "low": sum(1 for rank in ranks if rank < 10), "nodes": len(mine)})
    return rows
