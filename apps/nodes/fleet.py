"""The fleet table's query: search, filters, sort and a page, in a constant number of queries."""
from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Count, Max, Q

from apps.nodes.models import AlertRule, MaintenanceClaim, Node, NodeSnapshot, NodeState, Sweep
from apps.nodes.probe import SYNCED_LAG
from fluxpanel.params import parse_id

PAGE_SIZE = 50
WINDOW_MINUTES = 30  # a maintenance window under this is marked (the maintenance_low rule's default)
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


def _matching(team, query: FleetQuery, *, with_state: bool = True):
    # Every node has a snapshot row from its registration on, so this is an inner join.
    nodes = Node.objects.filter(team=team, snapshot__team=team)
    if query.search:
        nodes = nodes.filter(Q(name__icontains=query.search) | Q(address__icontains=query.search))
    if query.state and with_state:
        nodes = nodes.filter(snapshot__state=query.state)
    if query.group:
        nodes = nodes.filter(group_id=int(query.group))
    if query.tier:
        nodes = nodes.filter(snapshot__tier__iexact=query.tier)
    return nodes


def filtered(query: FleetQuery) -> bool:
    """Filters other than the state (the state counts are what the state filter picks from)."""
    return bool(query.search or query.group or query.tier)


def fleet_page(team, query: FleetQuery, counts: dict | None = None):
    """A page of the fleet; `counts` are the state counts of what the filters match (shown_counts),
    which also say how many rows match: no COUNT over the join."""
    nodes = _matching(team, query).select_related("snapshot", "group").order_by(*SORTS[query.sort])
    paginator = Paginator(nodes, PAGE_SIZE)
    if counts is not None:
        paginator.__dict__["count"] = counts[query.state] if query.state else counts["total"]
    return paginator.get_page(query.page)


def shown_counts(team, query: FleetQuery, counts: dict) -> dict:
    """Nodes per state among those the search, group and tier filters match (one grouped query),
    so the counts above a filtered table add up to it; the team's own counts when unfiltered."""
    if not filtered(query):
        return counts
    totals = dict.fromkeys(NodeState.values, 0)
    for state, count in _matching(team, query, with_state=False).values_list(
            "snapshot__state").annotate(n=Count("pk")).order_by():
        totals[state] = count
    totals["total"] = sum(totals[state] for state in NodeState.values)
    totals["nodes_max_pk"] = counts["nodes_max_pk"]
    return totals


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


@dataclass
class AlertGlance:
    """Which node rules fire now (rule, how many nodes) and the thresholds the row marks use."""

    firing: list
    rules: int
    height_lag: int
    window_minutes: int


def alert_glance(team) -> AlertGlance:
    """One query: the team's enabled node rules, each with how many nodes it fires for now."""
    from apps.nodes.alerts import APP_KINDS

    rules = list(AlertRule.objects.filter(team=team, enabled=True).exclude(kind__in=APP_KINDS)
                 .annotate(firing_now=Count("states")).order_by("kind", "id"))
    thresholds = {rule.kind: rule.threshold for rule in rules if rule.threshold}
    return AlertGlance(
        firing=[(rule, rule.firing_now) for rule in rules if rule.firing_now],
        rules=len(rules),
        height_lag=thresholds.get(AlertRule.Kind.HEIGHT_BEHIND) or SYNCED_LAG,
        window_minutes=thresholds.get(AlertRule.Kind.MAINTENANCE_LOW) or WINDOW_MINUTES,
    )


def row_marks(page, glance: AlertGlance) -> dict[int, list]:
    """Per node of the page: (mark, title, text) for height behind, a maintenance claim in force,
    and a maintenance window closing; one query (the page's claims)."""
    nodes = list(page)
    claims = {}
    for node_id, username, until in MaintenanceClaim.active().filter(
            node_id__in=[n.pk for n in nodes]).values_list("node_id", "user__username", "until"):
        claims[node_id] = (username, until)
    marks = {}
    for node in nodes:
        snap = getattr(node, "snapshot", None)
        found = []
        if snap and snap.answered and snap.height_lag is not None and snap.height_lag >= glance.height_lag:
            found.append(("behind", f"{snap.height_lag} blocks behind the fleet's height", "behind"))
        if node.pk in claims:
            username, until = claims[node.pk]
            found.append(("claim", f"{username} holds it for maintenance until {until:%Y-%m-%d %H:%M} UTC",
                          "claimed"))
        minutes = snap.maintenance_minutes if snap and snap.answered else None
        if minutes is not None and minutes < glance.window_minutes:
            found.append(("window", f"must confirm within {minutes} min (maintenance window)",
                          f"window {minutes} min"))
        if found:
            marks[node.pk] = found
    return marks


def fleet_fingerprint(team, counts: dict | None = None) -> str:
    """Changes whenever the fleet table could look different: a sweep wrote results, a node was
    added or removed. Only sweeps write snapshots, and a sweep's finished_at is set after it wrote
    them. A poll that sends the same fingerprint back gets 304 and swaps nothing."""
    counts = counts or state_counts(team)
    last = Sweep.objects.filter(team=team).aggregate(last=Max("finished_at"))["last"]
    return f"{counts['total']}-{counts['nodes_max_pk']}-{last.timestamp() if last else 0:.3f}"
