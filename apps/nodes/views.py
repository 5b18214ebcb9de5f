"""Fleet pages: dashboard with live refresh, registration, node detail, fleet settings, metrics."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.accounts.access import team_object_or_404, team_view
from apps.accounts.models import Role
from apps.nodes import actions
from apps.nodes.fleet import FleetQuery, fleet_fingerprint, fleet_page, state_counts
from apps.nodes.forms import (
    AlertRuleForm,
    ClaimForm,
    GroupForm,
    IntervalForm,
    NodeLabelsForm,
    OwnerImportForm,
    RegisterForm,
)
from apps.nodes.history import uptime
from apps.nodes.models import (
    AlertDelivery,
    AlertRule,
    MaintenanceClaim,
    Node,
    NodeGroup,
    NodeState,
    SweepSettings,
)

NOT_MODIFIED = 304
COLUMNS = [("name", "Name"), (None, "Address"), ("tier", "Tier"), ("state", "Status"),
           ("version", "Version"), ("lag", "Height lag"), ("maintenance", "Maintenance window"),
           (None, "Apps"), ("seen", "Last seen")]


def _fleet_context(request, counts=None, fingerprint=None):
    query = FleetQuery.from_request(request.GET)
    counts = counts or state_counts(request.team)
    return {
        "query": query,
        "page": fleet_page(request.team, query, counts),
        "counts": counts,
        "fingerprint": fingerprint or fleet_fingerprint(request.team, counts),
        "states": NodeState.choices,
        "columns": COLUMNS,
    }


@team_view()
def fleet(request):
    context = _fleet_context(request)
    context["groups"] = list(NodeGroup.objects.filter(team=request.team))
    context["is_manager"] = request.membership.can(Role.MANAGER)
    return render(request, "nodes/fleet.html", context)


@team_view()
def fleet_poll(request):
    """The live part of the fleet page; 304 (htmx swaps nothing) when nothing changed."""
    counts = state_counts(request.team)
    fingerprint = fleet_fingerprint(request.team, counts)
    if request.GET.get("fp") == fingerprint:
        return HttpResponse(status=NOT_MODIFIED)
    return render(request, "nodes/_fleet_live.html", _fleet_context(request, counts, fingerprint))


@team_view(Role.MANAGER)
def register(request):
    form = RegisterForm(request.POST or None, team=request.team)
    owner_form = OwnerImportForm(team=request.team)
    line_errors = []
    if request.method == "POST" and form.is_valid():
        try:
            created = actions.register_nodes(
                membership=request.membership, text=form.cleaned_data["nodes"],
                group=form.cleaned_data["group"], provider=form.cleaned_data["provider"],
            )
        except actions.ImportRefused as refused:
            line_errors = refused.errors
            form.add_error("nodes", refused.messages[0])
        else:
            messages.success(request, f"Registered {len(created)} node(s); the next sweep checks them.")
            return redirect("nodes:fleet")
    return render(request, "nodes/register.html",
                  {"form": form, "owner_form": owner_form, "line_errors": line_errors})


@team_view(Role.MANAGER)
@require_POST
def register_owner(request):
    owner_form = OwnerImportForm(request.POST, team=request.team)
    form = RegisterForm(team=request.team)
    line_errors = []
    if owner_form.is_valid():
        from fluxpanel.fluxos.client import FluxClientError

        owner = owner_form.cleaned_data["owner"].strip()
        try:
            addresses = actions.owner_node_addresses(owner_form.cleaned_data["source"], owner)
        except FluxClientError as exc:
            owner_form.add_error("source", f"Could not read the node list from that node: {exc.message}")
        else:
            known = set(Node.objects.filter(team=request.team).values_list("address", flat=True))
            from apps.nodes.addresses import normalise_address

            new = [a for a in addresses if _safe_normalise(normalise_address, a) not in known]
            if not addresses:
                owner_form.add_error("owner", f"The network lists no node for {owner}.")
            elif not new:
                messages.info(request, f"All {len(addresses)} node(s) of {owner} are already registered.")
                return redirect("nodes:fleet")
            else:
                try:
                    created = actions.register_nodes(membership=request.membership, text="\n".join(new), source="owner")
                except actions.ImportRefused as refused:
                    line_errors = refused.errors
                    owner_form.add_error("owner", refused.messages[0])
                else:
                    messages.success(request, f"Registered {len(created)} node(s) of {owner}.")
                    return redirect("nodes:fleet")
    return render(request, "nodes/register.html",
                  {"form": form, "owner_form": owner_form, "line_errors": line_errors})


def _safe_normalise(normalise, address):
    try:
        return normalise(address)[0]
    except ValueError:
        return None


@team_view()
def node_detail(request, pk):
    node = team_object_or_404(Node.objects.select_related("group", "snapshot"), request.team, pk=pk)
    snapshot = getattr(node, "snapshot", None)
    claim = MaintenanceClaim.objects.filter(node=node, released_at__isnull=True, until__gt=timezone.now()).select_related("user").first()
    return render(request, "nodes/detail.html", {
        "node": node, "snapshot": snapshot, "claim": claim,
        "changes": node.status_changes.all()[:50],
        "uptime": uptime(node),
        "deliveries": AlertDelivery.objects.filter(node=node).select_related("rule")[:20],
        "labels_form": NodeLabelsForm(initial={
            "name": node.name, "group": node.group_id, "provider": node.provider,
            "monthly_cost": node.monthly_cost, "notes": node.notes}, team=request.team),
        "claim_form": ClaimForm(),
        "is_manager": request.membership.can(Role.MANAGER),
        "is_operator": request.membership.can(Role.OPERATOR),
        "live_sections": [("diagnostics", "Daemon"), ("benchmarks", "Benchmarks"), ("apps", "Apps"), ("peers", "Peers")],
    })


LIVE_SECTIONS = {
    "benchmarks": lambda c: {"benchmarks": c.benchmarks(), "status": c.benchmark_status()},
    "apps": lambda c: {"running": c.running_apps(), "installed": c.installed_apps()},
    "peers": lambda c: {"outgoing": c.connected_peers(), "incoming": c.incoming_connections()},
    "diagnostics": lambda c: {"node_status": c.flux_node_status(), "block_count": c.block_count(),
                              "version": c.version(), "uptime": c.uptime(), "dos": c.dos_state()},
}


@team_view()
def node_live(request, pk, section):
    """One tab of the node page, read live from the node (read-only public calls)."""
    from fluxpanel.fluxos.client import FluxClientError, NodeClient

    node = team_object_or_404(Node, request.team, pk=pk)
    if section not in LIVE_SECTIONS:
        return HttpResponse(status=404)
    try:
        data = LIVE_SECTIONS[section](NodeClient(node.base_url, timeout=(3.05, 10)))
        error = None
    except FluxClientError as exc:
        data, error = {}, str(exc.message)
    return render(request, f"nodes/_live_{section}.html", {"node": node, "data": data, "error": error})


@team_view(Role.MANAGER)
@require_POST
def node_edit(request, pk):
    node = team_object_or_404(Node, request.team, pk=pk)
    form = NodeLabelsForm(request.POST, team=request.team)
    if form.is_valid():
        try:
            actions.update_node(membership=request.membership, node=node, **form.cleaned_data)
        except Exception as exc:  # a duplicate name violates the unique constraint
            messages.error(request, f"Not saved: {exc}")
        else:
            messages.success(request, "Saved.")
    else:
        messages.error(request, "Not saved: " + "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items()))
    return redirect("nodes:detail", pk=node.pk)


@team_view(Role.MANAGER)
@require_POST
def node_delete(request, pk):
    node = team_object_or_404(Node, request.team, pk=pk)
    actions.delete_node(membership=request.membership, node=node)
    messages.success(request, f"{node.name} is no longer registered.")
    return redirect("nodes:fleet")


@team_view(Role.OPERATOR)
@require_POST
def node_claim(request, pk):
    node = team_object_or_404(Node, request.team, pk=pk)
    form = ClaimForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A maintenance claim lasts from 1 minute to 7 days.")
    else:
        try:
            actions.claim_node(membership=request.membership, node=node, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(request, "You hold this node; its alerts are muted until you release it.")
    return redirect("nodes:detail", pk=node.pk)


@team_view(Role.OPERATOR)
@require_POST
def node_release(request, pk):
    node = team_object_or_404(Node, request.team, pk=pk)
    actions.release_claim(membership=request.membership, node=node)
    messages.success(request, "Released.")
    return redirect("nodes:detail", pk=node.pk)


@team_view(Role.OPERATOR)
@require_POST
def sweep_now(request):
    from apps.nodes.tasks import sweep_team_task

    sweep_team_task.delay(request.team.pk)
    messages.info(request, "A sweep was queued; the table refreshes by itself.")
    return redirect("nodes:fleet")


@team_view()
def fleet_settings(request):
    sweep_settings = SweepSettings.objects.filter(team=request.team).first()
    return render(request, "nodes/settings.html", {
        "groups": NodeGroup.objects.filter(team=request.team),
        "rules": AlertRule.objects.filter(team=request.team),
        "deliveries": AlertDelivery.objects.filter(team_id=request.team.pk).select_related("node", "rule")[:30],
        "interval_form": IntervalForm(initial={"seconds": sweep_settings.interval_seconds if sweep_settings else 60}),
        "group_form": GroupForm(), "rule_form": AlertRuleForm(),
        "is_manager": request.membership.can(Role.MANAGER),
        "has_metrics_token": hasattr(request.team, "metrics_token"),
        "metrics_url": request.build_absolute_uri(reverse("metrics")),
    })


def _settings_redirect():
    return redirect("nodes:settings")


@team_view(Role.MANAGER)
@require_POST
def group_create(request):
    form = GroupForm(request.POST)
    if form.is_valid():
        try:
            actions.create_group(membership=request.membership, name=form.cleaned_data["name"])
        except ValidationError as error:
            messages.error(request, error.messages[0])
    else:
        messages.error(request, "A group needs a name (up to 80 characters).")
    return _settings_redirect()


@team_view(Role.MANAGER)
@require_POST
def interval_set(request):
    form = IntervalForm(request.POST)
    if form.is_valid():
        actions.set_sweep_interval(membership=request.membership, seconds=form.cleaned_data["seconds"])
        messages.success(request, f"The fleet is now swept every {form.cleaned_data['seconds']} s.")
    else:
        messages.error(request, "The sweep interval must be between 15 seconds and one day.")
    return _settings_redirect()


@team_view(Role.MANAGER)
@require_POST
def alert_create(request):
    form = AlertRuleForm(request.POST)
    if form.is_valid():
        try:
            actions.create_alert_rule(membership=request.membership, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(request, "Alert rule added.")
    else:
        messages.error(request, "Not added: " + "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items()))
    return _settings_redirect()


@team_view(Role.MANAGER)
@require_POST
def alert_delete(request, pk):
    rule = team_object_or_404(AlertRule, request.team, pk=pk)
    actions.delete_alert_rule(membership=request.membership, rule=rule)
    messages.success(request, "Alert rule deleted.")
    return _settings_redirect()


@team_view(Role.MANAGER)
@require_POST
def metrics_token(request):
    token = actions.rotate_metrics_token(membership=request.membership)
    messages.success(request, f"New /metrics token (shown once, the old one stops working): {token}")
    return _settings_redirect()
