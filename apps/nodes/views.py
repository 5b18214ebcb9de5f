"""Fleet pages: dashboard with live refresh, registration, node detail, fleet settings, metrics.

One URL per page: the fleet page answers its own poll (htmx, `fp=` fingerprint → 304 when
nothing changed) and the node page its live tabs (`?section=daemon` …); links carry the same URL
in `href` and `hx-get`, so they work without JavaScript too.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.access import team_object_or_404, team_view
from apps.accounts.models import Role
from apps.nodes import actions, live
from apps.nodes.addresses import normalise_address
from apps.nodes.fleet import (
    FleetQuery,
    alert_glance,
    filtered,
    fleet_fingerprint,
    fleet_page,
    row_marks,
    shown_counts,
    state_counts,
)
from apps.nodes.forms import (
    AlertRuleForm,
    ClaimForm,
    GroupForm,
    IntervalForm,
    NodeLabelsForm,
    OwnerImportForm,
    RegisterForm,
)
from apps.nodes.models import (
    AlertDelivery,
    AlertRule,
    MaintenanceClaim,
    Node,
    NodeGroup,
    NodeState,
    SweepSettings,
)
from apps.nodes.timeline import node_timeline
from fluxpanel.fluxos.client import FluxClientError
from fluxpanel.htmx import unchanged

FLEET_LIVE_ID = "fleet-live"  # the element the fleet page's poll swaps
COLUMNS = [("name", "Name"), (None, "Address"), ("tier", "Tier"), ("state", "Status"),
           ("version", "Version"), ("lag", "Height lag"), ("maintenance", "Maintenance window"),
           (None, "Apps"), ("seen", "Last seen")]


def _fleet_context(request, counts, fingerprint):
    query = FleetQuery.from_request(request.GET)
    shown = shown_counts(request.team, query, counts)
    page = fleet_page(request.team, query, shown)
    glance = alert_glance(request.team)
    return {
        "query": query,
        "page": page,
        "counts": shown,
        "team_total": counts["total"],
        "filtered": filtered(query),
        "glance": glance,
        "marks": row_marks(page, glance),
        "fingerprint": fingerprint,
        "states": NodeState.choices,
        "columns": COLUMNS,
        "fleet_live_id": FLEET_LIVE_ID,
    }


@team_view()
def fleet(request):
    """The fleet page; for its htmx poll only the live part, or 304 when nothing changed."""
    counts = state_counts(request.team)
    fingerprint = fleet_fingerprint(request.team, counts)
    if request.htmx and request.htmx.target == FLEET_LIVE_ID:
        if request.GET.get("fp") == fingerprint:
            return unchanged()
        return render(request, "nodes/_fleet_live.html", _fleet_context(request, counts, fingerprint))
    context = _fleet_context(request, counts, fingerprint)
    context["groups"] = list(NodeGroup.objects.filter(team=request.team))
    context["is_manager"] = request.membership.can(Role.MANAGER)
    return render(request, "nodes/fleet.html", context)


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
        owner = owner_form.cleaned_data["owner"].strip()
        try:
            addresses = actions.owner_node_addresses(owner_form.cleaned_data["source"], owner)
        except FluxClientError as exc:
            owner_form.add_error("source", f"Could not read the node list from that node: {exc.message}")
        else:
            usable, refused = _usable_addresses(addresses)
            known = set(Node.objects.filter(team=request.team).values_list("address", flat=True))
            new = [text for text, address in usable if address not in known]
            if refused:
                messages.warning(request, f"{len(refused)} address(es) of {owner} skipped: "
                                 + "; ".join(refused[:5]) + ("; …" if len(refused) > 5 else ""))
            if not addresses:
                owner_form.add_error("owner", f"The network lists no node for {owner}.")
            elif not new:
                messages.info(request, f"All {len(usable)} usable node(s) of {owner} are already registered.")
                return redirect("nodes:fleet")
            else:
                try:
                    created = actions.register_nodes(membership=request.membership, text="\n".join(new), source="owner")
                except actions.ImportRefused as refused_import:
                    line_errors = refused_import.errors
                    owner_form.add_error("owner", refused_import.messages[0])
                else:
                    messages.success(request, f"Registered {len(created)} node(s) of {owner}.")
                    return redirect("nodes:fleet")
    return render(request, "nodes/register.html",
                  {"form": form, "owner_form": owner_form, "line_errors": line_errors})


def _usable_addresses(addresses: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """(text, normalised address) of the addresses the panel accepts, and why the others not."""
    usable, refused = [], []
    for text in addresses:
        try:
            usable.append((text, normalise_address(text)[0]))
        except ValueError as exc:
            refused.append(f"{text[:60]}: {exc}")
    return usable, refused


def _detail_context(request, node, *, labels_form=None, tab=None) -> dict:
    snapshot = getattr(node, "snapshot", None)
    claim = MaintenanceClaim.active().filter(node=node).select_related("user").first()
    return {
        "node": node, "snapshot": snapshot, "claim": claim,
        "changes": node.status_changes.all()[:50],
        "timeline": node_timeline(node, checked_at=snapshot.checked_at if snapshot else None),
        # A node that stopped answering keeps what it last said, shown "as of" its last answer.
        "as_of": snapshot.as_of if snapshot else None, "facts": snapshot.facts if snapshot else {},
        "deliveries": AlertDelivery.objects.filter(node=node).select_related("rule")[:20],
        "labels_form": labels_form or NodeLabelsForm(initial={
            "name": node.name, "group": node.group_id, "provider": node.provider,
            "monthly_cost": node.monthly_cost, "notes": node.notes}, team=request.team),
        "claim_form": ClaimForm(),
        "is_manager": request.membership.can(Role.MANAGER),
        "is_operator": request.membership.can(Role.OPERATOR),
        "live_sections": [(key, label) for key, (label, _) in live.SECTIONS.items()],
        "tab": tab, "default_section": live.DEFAULT_SECTION, "live_wait": live.live_wait_s(),
        "current_section": tab.key if tab else live.DEFAULT_SECTION,
    }


def _team_node(request, pk):
    return team_object_or_404(Node.objects.select_related("group", "snapshot"), request.team, pk=pk)


@team_view()
def node_detail(request, pk):
    """The node page; `?section=<tab>` reads that live tab from the node (only the tab for htmx)."""
    node = _team_node(request, pk)
    section = request.GET.get("section")
    tab = None
    if section is not None:
        if section not in live.SECTIONS:
            raise Http404("No such tab.")
        tab = live.read_tab(node, section)
        if request.htmx:
            return render(request, "nodes/_live.html", {"tab": tab, "node": node, "live_wait": live.live_wait_s()})
    return render(request, "nodes/detail.html", _detail_context(request, node, tab=tab))


@team_view(Role.MANAGER)
@require_POST
def node_edit(request, pk):
    node = _team_node(request, pk)
    form = NodeLabelsForm(request.POST, team=request.team)
    if form.is_valid():
        try:
            actions.update_node(membership=request.membership, node=node, **form.cleaned_data)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, field_errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, field_errors)
            else:
                form.add_error(None, error.messages)
        else:
            messages.success(request, "Saved.")
            return redirect("nodes:detail", pk=node.pk)
    node.refresh_from_db()  # show what is stored, not the refused values
    return render(request, "nodes/detail.html", _detail_context(request, node, labels_form=form))


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
    try:
        actions.release_claim(membership=request.membership, node=node)
    except PermissionDenied as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "Released.")
    return redirect("nodes:detail", pk=node.pk)


@team_view(Role.OPERATOR)
@require_POST
def sweep_now(request):
    actions.sweep_now(membership=request.membership)
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
