"""The node admin page, `/fleet/ops/` (managers): restart FluxOS, start/restart the daemon,
restart benchmarks on one node, selected nodes or rolling across the fleet; each node's admin
session, maintenance window and claim; FluxOS's error/warn log tails.

One URL: `?part=form` (htmx) swaps the form when the operation or mode changes; `?part=logs&node=<id>
&log=error|warn` reads a log tail (the partial for htmx, the whole page otherwise: `href` equals
`hx-get`); `?node=<id>` preselects a node (the node page's link). Posting starts one `node_admin`
job and goes to its Jobs page, where its output shows live. A node without a valid admin session
says so and offers the Wallet page's node login request (`wallets:prepare_login`).
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render

from apps.accounts.access import team_object_or_404, team_view
from apps.accounts.models import Role
from apps.nodes import admin_actions, admin_ops
from apps.nodes.models import MaintenanceClaim, Node
from apps.operations.operations import WINDOW_MINUTES, to_job_page
from fluxpanel.params import parse_id


def _rows(team, chosen: set[str]) -> list[dict]:
    """One row per node, in a fixed number of queries whatever the fleet's size."""
    nodes = list(Node.objects.filter(team=team).select_related("snapshot").order_by("name")[:admin_actions.MAX_NODES])
    sessions = admin_ops.session_rows(nodes)
    claims = {c.node_id: c for c in MaintenanceClaim.active().filter(node__team=team).select_related("user")}
    rows = []
    for node in nodes:
        snap = getattr(node, "snapshot", None)
        minutes = snap.maintenance_minutes if snap is not None else None
        claim = claims.get(node.pk)
        privilege, until = sessions.get(node.pk, ("", None))
        rows.append({
            "node": node, "state": snap.get_state_display() if snap else "not swept yet",
            "minutes": minutes, "in_window": minutes is not None and minutes < WINDOW_MINUTES,
            "claim": claim, "privilege": privilege if privilege in admin_ops.LOG_PRIVILEGES else "",
            "user_only": privilege == "user", "until": until,
            "owner": (snap.facts.get("zelid") or "") if snap else "",
            "chosen": str(node.pk) in chosen,
        })
    return rows


def _context(request, data, error: str = "", logs: dict | None = None) -> dict:
    operation = data.get("operation") or "restart_fluxos"
    if operation not in admin_ops.ADMIN_OPERATIONS:
        operation = "restart_fluxos"
    mode = data.get("mode") or "rolling"
    if mode not in admin_ops.MODES:
        mode = "rolling"
    chosen = set(data.getlist("nodes")) if hasattr(data, "getlist") else set()
    preselect = parse_id(data.get("node", "")) if not chosen else None
    if preselect:
        chosen = {str(preselect)}
    rows = _rows(request.team, chosen)
    return {"rows": rows, "operations": list(admin_ops.ADMIN_OPERATIONS.values()),
            "operation": admin_ops.ADMIN_OPERATIONS[operation], "modes": admin_ops.MODES, "mode": mode,
            "skip_failures": bool(data.get("skip_failures")), "error": error, "logs": logs,
            "log_kinds": admin_ops.LOG_KINDS, "window_minutes": WINDOW_MINUTES,
            "without_session": sum(1 for row in rows if not row["privilege"])}


def _logs(request) -> dict:
    node = team_object_or_404(Node, request.team, pk=parse_id(request.GET.get("node", "")) or 0)
    which = request.GET.get("log", "")
    if which not in admin_ops.LOG_KINDS:
        raise Http404("No such log.")
    text, problem = admin_ops.read_log(node, request.membership, which)
    return {"node": node, "which": which, "label": admin_ops.LOG_KINDS[which], "text": text, "problem": problem}


@team_view(Role.MANAGER)
def node_ops(request):
    if request.method == "POST":
        return _start(request)
    part = request.GET.get("part")
    if part == "logs":
        logs = _logs(request)
        if request.htmx:
            return render(request, "nodes/_ops_logs.html", {"logs": logs})
        return render(request, "nodes/ops.html", _context(request, request.GET, logs=logs))
    context = _context(request, request.GET)
    if request.htmx and part == "form":
        return render(request, "nodes/_ops_form.html", context)
    return render(request, "nodes/ops.html", context)


def _start(request):
    try:
        job = admin_actions.start_node_admin(
            membership=request.membership, operation=request.POST.get("operation", ""),
            mode=request.POST.get("mode", ""), node_ids=request.POST.getlist("nodes"),
            skip_failures=bool(request.POST.get("skip_failures")), confirm=request.POST.get("confirm", ""))
    except ValidationError as exc:
        context = _context(request, request.POST, " ".join(exc.messages))
        return render(request, "nodes/_ops_form.html" if request.htmx else "nodes/ops.html", context)
    return to_job_page(request, job)
