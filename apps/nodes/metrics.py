"""`GET /metrics`: the team's fleet in Prometheus text format, for a bearer token of that team."""
from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.cache import never_cache

from apps.nodes.fleet import state_counts
from apps.nodes.models import MetricsToken, NodeSnapshot, NodeState, hash_token

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(value) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


@never_cache
def metrics(request):
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.startswith("Bearer ") else ""
    row = MetricsToken.objects.select_related("team").filter(token_hash=hash_token(token)).first() if token else None
    if row is None:
        response = HttpResponse("missing or unknown metrics token\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="fluxpanel metrics"'
        return response
    team = row.team
    lines = ["# HELP fluxpanel_nodes Registered nodes by state.", "# TYPE fluxpanel_nodes gauge"]
    counts = state_counts(team)
    for state in NodeState.values:
        lines.append(f'fluxpanel_nodes{{state="{state}"}} {counts.get(state, 0)}')
    per_node = [
        ("fluxpanel_node_up", "1 when the node answered the last sweep.", lambda s: int(NodeState.answered(s["state"]))),
        ("fluxpanel_node_confirmed", "1 when the node is CONFIRMED on the network.", lambda s: int(s["state"] == "confirmed")),
        ("fluxpanel_node_height_lag", "Blocks behind the fleet's highest block.", lambda s: s["height_lag"]),
        ("fluxpanel_node_maintenance_blocks", "Blocks left before the node must confirm.", lambda s: s["maintenance_blocks"]),
        ("fluxpanel_node_apps_running", "Running app containers.", lambda s: s["apps_running"]),
    ]
    snapshots = list(NodeSnapshot.objects.filter(team=team).values(
        "node__name", "node__address", "state", "height_lag", "maintenance_blocks", "apps_running", "tier"))
    for name, help_text, value_of in per_node:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for snap in snapshots:
            value = value_of(snap)
            if value is None:
                continue
            labels = (f'node="{_label(snap["node__name"])}",address="{_label(snap["node__address"])}",'
                      f'state="{snap["state"]}",tier="{_label(snap["tier"])}"')
            lines.append(f"{name}{{{labels}}} {value}")
    return HttpResponse("\n".join(lines) + "\n", content_type=CONTENT_TYPE)
