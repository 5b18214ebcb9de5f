"""The fleet table's query: search, filters, sort and a page, in a constant number of queries."""
from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Count, Max, Q

from apps.nodes.models import Node, NodeSnapshot, NodeState, Sweep
from fluxpanel.params import parse_id

PAGE_SIZE = 50
# Sort keys → (column, tie-breaker). The tie-breaker goes the same way as the column so that the
# (team, column, node) indexes of NodeSnapshot serve the whole ORDER BY and a page reads 50 rows.
_COLUMNS = {"state": "state", "version": "version", "lag": "height_lag",
            "maintenance": "maintenance_blocks", "seen": "last_seen", "tier": "tier"}
SORTS = {"name": ("name",), "-name": ("-name",)}
for _key, _column in _COLUMNS.items():
    SORTS[_key] = (f"snapshot__{_column}", "snapshot__node_id")
    SORTS[f"-{_key}"] = (f"-snapshot__{_column}", "-snapshot__node_id")


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
        """What the query string asks for; anything unusable falls back to "no filter"."""
        group = parse_id(params.get("group", ""))
        query = cls(
            search=_clean(params.get("q", ""), 100),
            state=params.get("state", ""),
            group=str(group) if group else "",
            tier=_clean(params.get("tier", ""), 16),
            sort=params.get("sort", "name"),
            page=params.get("page", "1")[:12],
        )
        if query.sort not in SORTS:
            query.sort = "name"
        if query.state and query.state not in NodeState.values:
            query.state = ""
        return query

    def as_params(self, **override) -> dict:
        values = {"q": self.search, "state": self.state, "group": self.group, "tier": self.tier,
                  "sort": self.sort, "page": self.page}
        values.update(override)
        return {k: v for k, v in values.items() if v not in ("", None)}


def _clean(text: str, limit: int) -> str:
    # NUL cannot be stored or compared in PostgreSQL text; nobody searches for it.
    return text.replace("\x00", "").strip()[:limit]


def fleet_page(team, query: FleetQuery, counts: dict | None = None):
    # Every node has a snapshot row from its registration on, so this is an inner join.
    nodes = Node.objects.filter(team=team, snapshot__team=team).select_related("snapshot", "group")
    if query.search:
        nodes = nodes.filter(Q(name__icontains=query.search) | Q(address__icontains=query.search))
    if query.state:
        nodes = nodes.filter(snapshot__state=query.state)
    if query.group:
        nodes = nodes.filter(group_id=int(query.group))
    if query.tier:
        nodes = nodes.filter(snapshot__tier__iexact=query.tier)
    nodes = nodes.order_by(*SORTS[query.sort])
    paginator = Paginator(nodes, PAGE_SIZE)
    if counts is not None and not (query.search or query.group or query.tier):
        # The state counts already know how many rows match: skip the COUNT over the join.
        paginator.__dict__["count"] = counts[query.state] if query.state else counts["total"]
    return paginator.get_page(query.page)


def state_counts(team) -> dict:
    """Nodes per state, plus "total" and "nodes_max_pk".

    Two index-only queries: snapshots grouped by state (index team, state), and the team's nodes.
    """
    totals = dict.fromkeys(NodeState.values, 0)
    for state, count in (
        NodeSnapshot.objects.filter(team=team).values_list("state").annotate(n=Count("pk")).order_by()
    ):
        totals[state] = count
    nodes = Node.objects.filter(team=team).aggregate(total=Count("pk"), last=Max("pk"))
    totals["total"] = nodes["total"]
    totals["nodes_max_pk"] = nodes["last"] or 0
    return totals


def fleet_fingerprint(team, counts: dict | None = None) -> str:
    """Changes whenever the fleet table could look different: a sweep wrote results, a node was
    added or removed. Only sweeps write snapshots, and a sweep's finished_at is set after it wrote
    them. A poll that sends the same fingerprint back gets 304 and swaps nothing."""
    counts = counts or state_counts(team)
    last = Sweep.objects.filter(team=team).aggregate(last=Max("finished_at"))["last"]
    return f"{counts['total']}-{counts['nodes_max_pk']}-{last.timestamp() if last else 0:.3f}"
