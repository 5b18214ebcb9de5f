"""The owners/sources page of the Apps half and its writes (each one an action; PRG with a message)."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.access import team_object_or_404, team_view
from apps.accounts.models import Role
from apps.deployments import actions
from apps.deployments.forms import AppAddForm, SourcesForm, WatchedOwnerForm
from apps.deployments.models import AppSync, AppSyncSettings, TeamApp, WatchedOwner
from apps.nodes.models import Node
from apps.wallets.models import WalletIdentity
from fluxpanel.params import parse_id

RECENT_SYNCS = 10


def _form_error(form) -> str:
    return "; ".join(str(e) for errors in form.errors.values() for e in errors)


@team_view()
def app_settings(request):
    team = request.team
    config = AppSyncSettings.objects.filter(team=team).first()
    nodes = list(Node.objects.filter(team=team).order_by("name").only("pk", "name", "address"))
    linked = (WalletIdentity.objects.filter(user__memberships__team=team)
              .select_related("user").order_by("zelid"))
    return render(request, "deployments/settings.html", {
        "owners": WatchedOwner.objects.filter(team=team).select_related("added_by"),
        "linked": linked,
        "config": config,
        "source_node": config.source_node if config and config.source_node_id else None,
        "syncs": AppSync.objects.filter(team=team)[:RECENT_SYNCS],
        "dropped": TeamApp.objects.filter(team=team, dropped=True).order_by("name_key")[:200],
        "owner_form": WatchedOwnerForm(),
        "sources_form": SourcesForm(nodes=nodes, initial={
            "source_node": config.source_node_id if config else "",
            "gateway_url": config.gateway_url if config else "",
            "interval_seconds": config.interval_seconds if config else 300}),
        "app_form": AppAddForm(),
        "is_manager": request.membership.can(Role.MANAGER),
        "is_operator": request.membership.can(Role.OPERATOR),
    })


def _back():
    return redirect("deployments:settings")


@team_view(Role.MANAGER)
@require_POST
def owner_add(request):
    form = WatchedOwnerForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not added: " + _form_error(form))
        return _back()
    try:
        owner = actions.add_watched_owner(membership=request.membership, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, "Not added: " + error.messages[0])
    else:
        messages.success(request, f"Now watching {owner.address}; its apps appear after the next sync.")
    return _back()


@team_view(Role.MANAGER)
@require_POST
def owner_remove(request, pk):
    owner = team_object_or_404(WatchedOwner, request.team, pk=pk)
    actions.remove_watched_owner(membership=request.membership, owner=owner)
    messages.success(request, f"No longer watching {owner.address}.")
    return _back()


@team_view(Role.MANAGER)
@require_POST
def sources_set(request):
    nodes = Node.objects.filter(team=request.team).order_by("name")
    form = SourcesForm(request.POST, nodes=nodes)
    if not form.is_valid():
        messages.error(request, "Not saved: " + _form_error(form))
        return _back()
    node = None
    raw = form.cleaned_data["source_node"]
    if raw:
        node_id = parse_id(raw)
        if node_id is None:
            raise Http404("No such node.")
        node = team_object_or_404(Node, request.team, pk=node_id)
    try:
        actions.set_sources(membership=request.membership, source_node=node,
                            gateway_url=form.cleaned_data["gateway_url"],
                            interval_seconds=form.cleaned_data["interval_seconds"])
    except ValidationError as error:
        messages.error(request, "Not saved: " + error.messages[0])
    else:
        messages.success(request, "Sources saved.")
    return _back()


@team_view(Role.MANAGER)
@require_POST
def app_add(request):
    form = AppAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not added: " + _form_error(form))
        return _back()
    try:
        app = actions.add_app(membership=request.membership, name=form.cleaned_data["name"])
    except ValidationError as error:
        messages.error(request, "Not added: " + error.messages[0])
    else:
        messages.success(request, f"{app.name} added; the next sync checks that the network has it "
                                  "(otherwise it shows as not on the network).")
    return _back()


@team_view(Role.MANAGER)
@require_POST
def app_drop(request, pk):
    app = team_object_or_404(TeamApp, request.team, pk=pk)
    actions.drop_app(membership=request.membership, app=app)
    messages.success(request, f"{app.name} dropped from the team's apps (restore it from Apps settings).")
    return redirect("deployments:list")


@team_view(Role.MANAGER)
@require_POST
def app_restore(request, pk):
    app = team_object_or_404(TeamApp, request.team, pk=pk)
    actions.restore_app(membership=request.membership, app=app)
    messages.success(request, f"{app.name} is one of the team's apps again.")
    return redirect("deployments:detail", pk=app.pk)


@team_view(Role.OPERATOR)
@require_POST
def sync_now(request):
    actions.sync_now(membership=request.membership)
    messages.info(request, "An app sync was queued; the Apps page refreshes by itself.")
    return redirect("deployments:list")
