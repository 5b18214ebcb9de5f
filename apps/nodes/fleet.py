"""The fleet table's query: search, filters, sort and a page, in a constant number of queries."""
from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Count, Max, Q

from apps.nodes.models import Node, NodeSnapshot, NodeState, Sweep

PAGE_SIZE = 50
SORTS = {
    "name": "name", "-name": "-name",
    "state": "snapshot__state", "-state": "-snapshot__state",
    "version": "snapshot__version", "-version": "-snapshot__version",
    "lag": "snapshot__height_lag", "-lag": "-snapshot__height_lag",
    "maintenance": "snapshot__maintenance_blocks", "-maintenance": "-snapshot__maintenance_blocks",
    "seen": "snapshot__last_seen", "-seen": "-snapshot__last_seen",
    "tier": "snapshot__tier", "-tier": "-snapshot__tier",
}


@dataclass
class FleetQuery:
    search: str = ""
    state: str = ""
    group: str = ""
    tier: str = ""
    sort: str = "name"
    page: str = "1"

    @classmethod
    def from_request(cls, params) -> FleetQuery:
        query = cls(
            search=params.get("q", "").strip()[:100],
            state=params.get("state", ""),
            group=params.get("group", ""),
            tier=params.get("tier", "").strip()[:16],
            sort=params.get("sort", "name"),
            page=params.get("page", "1"),
        )
        if query.sort not in SORTS:
            query.sort = "name"
        if query.state and query.state not in NodeState.values:
            query.state = ""
        if not query.group.isdigit():
            query.group = ""
        return query

    def as_params(self, **override) -> dict:
        values = {"q": self.search, "state": self.state, "group": self.group, "tier": self.tier,
                  "sort": self.sort, "page": self.page}
        values.update(override)
        return {k: v for k, v in values.items() if v not in ("", None)}


def fleet_page(team, query: FleetQuery):
    nodes = Node.objects.filter(team=team).select_related("snapshot", "group")
    if query.search:
        nodes = nodes.filter(Q(name__icontains=query.search) | Q(address__icontains=query.search))
    if query.state == NodeState.UNKNOWN:
        nodes = nodes.filter(Q(snapshot__isnull=True) | Q(snapshot__state=NodeState.UNKNOWN))
    elif query.state:
        nodes = nodes.filter(snapshot__state=query.state)
    if query.group:
        nodes = nodes.filter(group_id=int(query.group))
    if query.tier:
        nodes = nodes.filter(snapshot__tier__iexact=query.tier)
    nodes = nodes.order_by(SORTS[query.sort], "name")
    return Paginator(nodes, PAGE_SIZE).get_page(query.page)


def state_counts(team) -> dict:
    """Nodes per state (never-swept nodes count as unknown), in one query."""
    totals = Node.objects.filter(team=team).aggregate(
        total=Count("pk"),
        **{s: Count("pk", filter=Q(snapshot__state=s)) for s in NodeState.values if s != NodeState.UNKNOWN},
    )
    known = sum(v for k, v in totals.items() if k != "total")
    totals[NodeState.UNKNOWN] = totals["total"] - known
    return totals


def fleet_fingerprint(team) -> str:
    """Changes whenever the fleet table could look different: a sweep finished, a node was added
    or removed. A poll that sends the same fingerprint back gets 304 and swaps nothing."""
    sweep = Sweep.objects.filter(team=team).aggregate(last=Max("finished_at"))["last"]
    nodes = Node.objects.filter(team=team).aggregate(n=Count("pk"), last=Max("pk"))
    snapshot = NodeSnapshot.objects.filter(team=team).aggregate(last=Max("checked_at"))["last"]
    stamp = max(filter(None, [sweep, snapshot]), default=None)
    return f"{nodes['n']}-{nodes['last'] or 0}-{stamp.timestamp() if stamp else 0:.3f}"
