"""`GET /metrics`: the team's fleet in Prometheus text format, for a bearer token of that team."""
from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from apps.deployments.models import AppStatus
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
    lines += app_lines(team)
    return HttpResponse("\n".join(lines) + "\n", content_type=CONTENT_TYPE)


def app_lines(team) -> list[str]:
    """Gauges per team app (one query, whatever the number of apps)."""
    from apps.deployments.models import TeamApp

    now = timezone.now()
    apps = list(TeamApp.objects.filter(team=team, dropped=False).order_by("name_key").values(
        "name", "status", "instances_running", "instances_wanted", "expires_at"))
    per_app = [
        ("fluxpanel_app_instances_running", "Instances of the app that run.", lambda a: a["instances_running"]),
        ("fluxpanel_app_instances_wanted", "Instances the app's spec wants.", lambda a: a["instances_wanted"]),
        ("fluxpanel_app_expiry_seconds", "Seconds until the app's subscription ends (negative: ended).",
         lambda a: None if a["expires_at"] is None else int((a["expires_at"] - now).total_seconds())),
    ]
    lines = []
    for name, help_text, value_of in per_app:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for app in apps:
            value = value_of(app)
            if value is not None:
                lines.append(f'{name}{{app="{_label(app["name"])}"}} {value}')
    lines += ["# HELP fluxpanel_app_up 1 when every wanted instance of the app runs.",
              "# TYPE fluxpanel_app_up gauge"]
    for app in apps:
        up = int(app["status"] == AppStatus.HEALTHY)
        lines.append(f'fluxpanel_app_up{{app="{_label(app["name"])}",status="{_label(app["status"])}"}} {up}')
    return lines
