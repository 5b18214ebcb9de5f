"""What the Network page shows: the cached network figures, the team's fleet against them, and the
fleet's pictures. A fixed number of queries whatever the fleet size."""
from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from apps.network import compare, history, parse, pictures, refresh, rewards
from apps.nodes.models import NodeSnapshot

MAX_NODES = history.MAX_NODES


def team_nodes(team) -> list[compare.TeamNode]:
    rows = (NodeSnapshot.objects.filter(team=team).order_by("pk")
            .values_list("tier", "version", "last_known", "node__address")[:MAX_NODES])
    out = []
    for tier, version, known, address in rows:
        known = known or {}
        out.append(compare.TeamNode(tier=tier or known.get("tier") or "",
                                    version=version or known.get("version") or "",
                                    ip=refresh.node_ip(address)))
    return out


def network_context(team, row) -> dict:
    figures = parse.Figures.from_json(row.figures) if row else None
    context = {"row": row, "figures": figures, "api_url": settings.FLUX_STATS_API_URL,
               "ttl_s": settings.NETWORK_STATS_TTL_S, "due": refresh.is_due(row)}
    if figures is None:
        return context
    nodes = team_nodes(team)
    versions = sorted(figures.versions.items(), key=lambda kv: -kv[1])
    context.update({
        "tier_bars": pictures.bars("Nodes per tier", [(t, figures.tiers.get(t, 0)) for t in parse.TIERS],
                                   total=figures.nodes, key="tiers"),
        "version_bars": pictures.bars("FluxOS versions", versions, total=figures.nodes, key="versions"),
        "arcane_bars": pictures.bars("ArcaneOS", [("ArcaneOS", figures.arcane),
                                                  ("other", figures.nodes - figures.arcane)], key="arcane"),
        "arcane_share": compare.percent(figures.arcane, figures.nodes),
        "shares": compare.tier_shares(figures, nodes),
        "versions": compare.version_standing(figures, nodes),
        "benchmarks": compare.benchmark_standing(figures, nodes),
    })
    return context


def fleet_context(team) -> dict:
    now = timezone.now()
    versions_now = history.snapshot_versions(team)
    return {
        "state_chart": pictures.state_chart(history.state_series(team, now=now), now=now),
        "version_chart": pictures.version_chart(history.version_series(team, versions_now, now=now), now=now),
        "rewards_chart": rewards.rewards_chart(team),
    }
