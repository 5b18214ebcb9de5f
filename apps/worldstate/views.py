"""World-state pages: engines, entity browser with live entity page, publish/batch/delete,
connectors, runtime config, namespaces and the fleet bridge's status.

Every view works on one Engine of the current team (another team's engine is a 404), so the
panel only ever calls engines a manager registered. The engine's answers are never cached: each
page asks it, and an engine that can't be reached, or answers something malformed, gives the
page a clear message (a WorldStateError from the client), not a 500.

One URL per page: the entity page's live part is the same view, rendered alone when htmx polls.

While the subscriber keeps an engine live (apps/worldstate/live_read.py), the entity page and
the entity list read the panel's copy instead, so viewers cost the engine nothing per poll; when
it does not, they read the engine and say that live updates are off.
"""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from apps.accounts.access import team_object_or_404, team_view
from apps.accounts.models import Role
from apps.accounts.navigation import safe_next_url
from apps.worldstate import actions, live_read
from apps.worldstate.client import Entity, WorldStateError
from apps.worldstate.forms import (
    BatchForm,
    EngineForm,
    EngineSettingsForm,
    NamespaceForm,
    PublishForm,
    RuntimeConfigForm,
)
from apps.worldstate.models import Engine, EngineNamespace
from fluxpanel.htmx import unchanged

PAGE_SIZE = 50
SUMMARY_PROPERTIES = 4
HISTORY_LIMIT = 100
HISTORY_WINDOWS = {"1h": ("last hour", timedelta(hours=1)),
                   "24h": ("last 24 hours", timedelta(hours=24)),
                   "7d": ("last 7 days", timedelta(days=7))}
DEFAULT_WINDOW = "24h"
CONFIG_KEYS = list(RuntimeConfigForm.base_fields)


def engine_of_team(request, pk) -> Engine:
    """The team's engine, with its live-subscription row in the same query."""
    return team_object_or_404(Engine.objects.select_related("live"), request.team, pk=pk)


def _roles(request) -> dict:
    return {"is_manager": request.membership.can(Role.MANAGER),
            "is_operator": request.membership.can(Role.OPERATOR)}


def _entities_url(engine: Engine, prefix: str = "") -> str:
    url = reverse("worldstate:entities", args=[engine.pk])
    return f"{url}?{urlencode({'prefix': prefix})}" if prefix else url


def _entity_url(engine: Engine, entity_id: str) -> str:
    return f"{reverse('worldstate:entity', args=[engine.pk])}?{urlencode({'id': entity_id})}"


# ---- engines --------------------------------------------------------------------------------


@team_view()
def engines(request):
    return render(request, "worldstate/engines.html", {
        "engines": Engine.objects.filter(team=request.team), **_roles(request)})


@team_view(Role.MANAGER)
def engine_register(request):
    form = EngineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if Engine.objects.filter(team=request.team, name=form.cleaned_data["name"]).exists():
            form.add_error("name", "This team already has an engine with that name.")
        else:
            engine = actions.register_engine(membership=request.membership, **form.cleaned_data)
            if engine.client().health():
                messages.success(request, f"Registered {engine.name}; it answers.")
            else:
                messages.warning(request, f"Registered {engine.name}, but it does not answer yet "
                                          f"at {engine.base_url}.")
            return redirect("worldstate:engine", pk=engine.pk)
    return render(request, "worldstate/engine_form.html", {"form": form, "engine": None})


@team_view()
def engine_detail(request, pk):
    engine = engine_of_team(request, pk)
    return render(request, "worldstate/engine.html", {
        "engine": engine, "tab": "engine", "healthy": engine.client().health(),
        "bridge_entities": engine.bridge_records.count(), "live": live_read.status(engine),
        **_roles(request)})


@team_view(Role.MANAGER)
def engine_settings(request, pk):
    engine = engine_of_team(request, pk)
    initial = {"name": engine.name, "base_url": engine.base_url, "namespace": engine.namespace,
               "bridge_enabled": engine.bridge_enabled}
    form = EngineSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["name"]
        if Engine.objects.filter(team=request.team, name=name).exclude(pk=engine.pk).exists():
            form.add_error("name", "This team already has an engine with that name.")
        else:
            new_host = actions.origin(engine.base_url) != actions.origin(form.cleaned_data["base_url"])
            had_tokens = engine.has_token or engine.has_admin_token or engine.namespaces.exists()
            actions.update_engine(membership=request.membership, engine=engine, **form.cleaned_data)
            if new_host and had_tokens:
                messages.warning(request, "Saved. The engine URL is on another host, so the stored "
                                          "tokens (and the namespaces registered through the panel) "
                                          "were removed: enter the tokens for the new host.")
            else:
                messages.success(request, "Saved.")
            return redirect("worldstate:engine", pk=engine.pk)
    return render(request, "worldstate/engine_form.html",
                  {"form": form, "engine": engine, "tab": "settings", **_roles(request)})


@team_view(Role.MANAGER)
@require_POST
def engine_delete(request, pk):
    engine = engine_of_team(request, pk)
    actions.delete_engine(membership=request.membership, engine=engine)
    messages.success(request, f"{engine.name} is no longer registered; its tokens are forgotten.")
    return redirect("worldstate:engines")


@team_view(Role.MANAGER)
@require_POST
def bridge_publish(request, pk):
    engine = engine_of_team(request, pk)
    run = actions.publish_fleet_now(membership=request.membership, engine=engine)
    if run.error:
        messages.error(request, f"The bridge could not publish everything: {run.error}")
    else:
        messages.success(request, f"Published {run.published} fleet entit"
                                  f"{'y' if run.published == 1 else 'ies'}.")
    return redirect("worldstate:engine", pk=engine.pk)


# ---- entity browser -------------------------------------------------------------------------


def _summary(properties: dict) -> list[tuple[str, str]]:
    shown = []
    for key in sorted(properties)[:SUMMARY_PROPERTIES]:
        text = json.dumps(properties[key], ensure_ascii=False)
        shown.append((key, text if len(text) <= 40 else text[:39] + "…"))
    return shown


def _entity_row(engine: Engine, data: dict) -> dict:
    entity = Entity.from_json(data)  # the full check of a row's properties
    return {"id": entity.id, "url": _entity_url(engine, entity.id),
            "summary": _summary(entity.properties),
            "more": max(0, len(entity.properties) - SUMMARY_PROPERTIES),
            "last_updated": entity.last_updated}


@team_view()
def entities(request, pk):
    """Server-side prefix search and pagination: the browser gets one page of PAGE_SIZE rows,
    from the panel's copy while it is live (htmx polls it: 304 until the copy changes), else
    from the engine's full listing."""
    engine = engine_of_team(request, pk)
    prefix = request.GET.get("prefix", "")
    live = live_read.status(engine)
    fingerprint = f"{int(live.on)}.{live.version}"
    if request.htmx and request.GET.get("fp") == fingerprint:
        return unchanged()
    error, found, rows = None, [], []
    try:
        if live.on:
            found = live_read.entity_rows(engine, prefix)
            page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
            rows = [_entity_row(engine, live_read.as_listing(row)) for row in page]
        else:
            found = engine.client().entity_rows(prefix=prefix or None)
            page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
            rows = [_entity_row(engine, data) for data in page]
    except WorldStateError as exc:
        error, found, rows = str(exc), [], []
        page = Paginator(found, PAGE_SIZE).get_page(1)
    query = urlencode({"prefix": prefix}) if prefix else ""
    context = {
        "engine": engine, "tab": "entities", "prefix": prefix, "page": page, "rows": rows,
        "total": page.paginator.count, "error": error, "query": query, "live": live,
        "poll_query": urlencode({"prefix": prefix, "page": page.number, "fp": fingerprint}),
        **_roles(request)}
    if request.htmx:
        return render(request, "worldstate/_entities_live.html", context)
    context["namespaces"] = sorted({engine.namespace} - {""} | set(
        EngineNamespace.objects.filter(engine=engine).values_list("name", flat=True)))
    return render(request, "worldstate/entities.html", context)


def _history_window(request) -> str:
    window = request.GET.get("window", DEFAULT_WINDOW)
    return window if window in HISTORY_WINDOWS else DEFAULT_WINDOW


def _fingerprint(entity, error: str | None, live_on: bool) -> str:
    """What the live part shows, hashed (whether it comes from the live copy is part of it)."""
    if error:
        text = "error:" + error
    elif entity is None:
        text = "absent"
    else:
        text = json.dumps([entity.last_updated.isoformat() if entity.last_updated else None,
                           entity.properties], sort_keys=True, default=str)
    return hashlib.sha1(f"{int(live_on)}{text}".encode()).hexdigest()[:16]


def _read_entity(engine: Engine, entity_id: str, live: live_read.LiveStatus):
    """The entity from the panel's copy while it is live and holds it, else from the engine."""
    if live.on:
        usable, entity = live_read.entity(engine, entity_id)
        if usable:
            return entity, None
    try:
        return engine.client().entity(entity_id), None
    except WorldStateError as exc:
        return None, str(exc)


def _history_rows(engine: Engine, entity_id: str, window: str) -> tuple[list[dict], str | None]:
    since = datetime.now(UTC) - HISTORY_WINDOWS[window][1]
    try:
        events = engine.client().history(entity_id, since=since, limit=HISTORY_LIMIT)
    except WorldStateError as exc:
        return [], str(exc)
    rows = []
    for event in events:
        payload = event.get("payload") or {}
        timestamp = event.get("timestamp")
        rows.append({
            "at": datetime.fromtimestamp(timestamp / 1000, UTC) if isinstance(timestamp, int) else None,
            "stream": event.get("stream", ""), "source": event.get("source", ""),
            "event_id": event.get("eventId", ""),
            "deleted": (payload.get("properties") or {}).get("__deleted__") is True,
            "properties": json.dumps(payload.get("properties"), ensure_ascii=False, sort_keys=True),
        })
    return rows, None


def _live_context(engine: Engine, entity_id: str, window: str, entity, error,
                  live: live_read.LiveStatus, *, full_page: bool) -> dict:
    """While live, a poll reads nothing from the engine: the engine's history is read once, when
    the page loads, and the poll shows the changes the panel saw instead."""
    if error or (live.on and not full_page):
        history, history_error = [], None
    else:
        history, history_error = _history_rows(engine, entity_id, window)
    seen = live_read.entity_updates(engine, entity_id) if live.on else []
    properties = []
    if entity is not None:
        properties = [(key, json.dumps(entity.properties[key], ensure_ascii=False, indent=2,
                                       sort_keys=True))
                      for key in sorted(entity.properties)]
    fingerprint = _fingerprint(entity, error, live.on)
    return {"engine": engine, "entity_id": entity_id, "entity": entity, "error": error,
            "properties": properties, "history": history, "history_error": history_error,
            "window": window, "fingerprint": fingerprint, "live": live, "seen": seen,
            "poll_query": urlencode({"id": entity_id, "window": window, "fp": fingerprint})}


@team_view()
def entity_detail(request, pk):
    """The live entity page. htmx polls this same URL (`fp` = the fingerprint it shows): an
    unchanged entity costs one engine read and answers 304, a changed one gets the live part."""
    engine = engine_of_team(request, pk)
    entity_id = request.GET.get("id")
    if entity_id is None:
        raise Http404("Which entity? The id is missing.")
    window = _history_window(request)
    live = live_read.status(engine)
    entity, error = _read_entity(engine, entity_id, live)
    if request.htmx:
        if request.GET.get("fp") == _fingerprint(entity, error, live.on):
            return unchanged()
        return render(request, "worldstate/_entity_live.html",
                      _live_context(engine, entity_id, window, entity, error, live, full_page=False))
    context = _live_context(engine, entity_id, window, entity, error, live, full_page=True)
    context.update(tab="entities", windows=[(key, label) for key, (label, _) in HISTORY_WINDOWS.items()],
                   publish_url=f"{reverse('worldstate:publish', args=[engine.pk])}?"
                               f"{urlencode({'entity': entity_id})}",
                   **_roles(request))
    return render(request, "worldstate/entity.html", context)


# ---- writes ---------------------------------------------------------------------------------


@team_view(Role.OPERATOR)
def publish(request, pk):
    engine = engine_of_team(request, pk)
    initial = {"entity_id": request.GET.get("entity", "")}
    if not initial["entity_id"] and engine.namespace:
        initial["entity_id"] = f"{engine.namespace}/"
    form = PublishForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            event_id = actions.publish_event(membership=request.membership, engine=engine, **data)
        except WorldStateError as exc:
            form.add_error(None, f"The engine refused the event: {exc}")
        else:
            messages.success(request, f"Published event {event_id}.")
            return redirect(_entity_url(engine, data["entity_id"]))
    return render(request, "worldstate/publish.html",
                  {"engine": engine, "tab": "publish", "form": form, **_roles(request)})


@team_view(Role.OPERATOR)
def batch(request, pk):
    engine = engine_of_team(request, pk)
    form = BatchForm(request.POST or None)
    outcome = None
    if request.method == "POST" and form.is_valid():
        try:
            outcome = actions.publish_batch(membership=request.membership, engine=engine,
                                            items=form.items())
        except WorldStateError as exc:
            form.add_error(None, f"The engine refused the batch: {exc}")
    return render(request, "worldstate/batch.html", {
        "engine": engine, "tab": "publish", "form": form, "outcome": outcome,
        "errors": outcome.errors[:200] if outcome else [], **_roles(request)})


@team_view(Role.OPERATOR)
@require_POST
def delete(request, pk):
    """Two steps: without `confirm`, say how many entities would go; with it, delete them.

    A prefix is resolved to ids at both steps; if the count moved in between, the page asks
    again with the new count instead of deleting what nobody confirmed.
    """
    engine = engine_of_team(request, pk)
    prefix = request.POST.get("prefix", "")
    by_prefix = "prefix" in request.POST and not request.POST.getlist("entity_ids")
    back = safe_next_url(request, request.POST.get("next"),
                         _entities_url(engine, prefix if by_prefix else ""))
    if not back.startswith("/"):  # "²" is a safe relative URL, but redirect() would reverse() it
        back = _entities_url(engine)
    if by_prefix:
        if not prefix:
            messages.error(request, "An empty prefix would match every entity; refused. "
                                    "Select entities or give a prefix.")
            return redirect(back)
        try:
            entity_ids = [row["id"] for row in engine.client().entity_rows(prefix=prefix)]
        except WorldStateError as exc:
            messages.error(request, f"Could not list the entities: {exc}")
            return redirect(back)
    else:
        entity_ids = list(dict.fromkeys(i for i in request.POST.getlist("entity_ids") if i))
        if not entity_ids:
            messages.error(request, "Select at least one entity to delete.")
            return redirect(back)
    changed = False
    if request.POST.get("confirm"):
        if request.POST.get("expected") == str(len(entity_ids)):
            try:
                deleted = actions.delete_entities(membership=request.membership, engine=engine,
                                                  entity_ids=entity_ids,
                                                  prefix=prefix if by_prefix else None)
            except WorldStateError as exc:
                messages.error(request, f"The engine refused the deletion: {exc}")
            else:
                messages.success(request, f"Deleted {deleted} entit{'y' if deleted == 1 else 'ies'}.")
            if back.startswith(reverse("worldstate:entity", args=[engine.pk])):
                back = _entities_url(engine)  # that entity page would show a deleted entity
            return redirect(back)
        changed = True
    return render(request, "worldstate/delete_confirm.html", {
        "engine": engine, "tab": "entities", "entity_ids": entity_ids, "count": len(entity_ids),
        "sample": entity_ids[:20], "by_prefix": by_prefix, "prefix": prefix, "changed": changed,
        "next": back, **_roles(request)})


# ---- connectors, runtime config, namespaces -------------------------------------------------


@team_view()
def connectors(request, pk):
    engine = engine_of_team(request, pk)
    try:
        found, error = engine.client().connectors(), None
    except WorldStateError as exc:
        found, error = [], str(exc)
    return render(request, "worldstate/connectors.html", {
        "engine": engine, "tab": "connectors", "connectors": found, "error": error,
        **_roles(request)})


def _config_page(request, engine: Engine, form=None, status=200):
    try:
        config, error = engine.client().admin_config(), None
    except WorldStateError as exc:
        config, error = {}, str(exc)
    if form is None and config:
        form = RuntimeConfigForm(initial={key: config.get(key) for key in CONFIG_KEYS})
    fields = [(RuntimeConfigForm.base_fields[key].label, config.get(key)) for key in CONFIG_KEYS
              if key in config]
    return render(request, "worldstate/config.html", {
        "engine": engine, "tab": "config", "config": fields, "error": error, "form": form,
        **_roles(request)}, status=status)


@team_view()
def config(request, pk):
    return _config_page(request, engine_of_team(request, pk))


@team_view(Role.MANAGER)
@require_POST
def config_edit(request, pk):
    engine = engine_of_team(request, pk)
    form = RuntimeConfigForm(request.POST)
    if not form.is_valid():
        return _config_page(request, engine, form)
    try:
        actions.update_runtime_config(membership=request.membership, engine=engine,
                                      **form.cleaned_data)
    except WorldStateError as exc:
        form.add_error(None, f"The engine refused the change: {exc}")
        return _config_page(request, engine, form)
    messages.success(request, "Runtime config saved. The engine forgets it when it restarts.")
    return redirect("worldstate:config", pk=engine.pk)


def _namespaces_page(request, engine: Engine, form=None, new_token=None, new_namespace=None):
    response = render(request, "worldstate/namespaces.html", {
        "engine": engine, "tab": "namespaces", "form": form or NamespaceForm(),
        "namespaces": EngineNamespace.objects.filter(engine=engine).select_related("created_by"),
        "new_token": new_token, "new_namespace": new_namespace, **_roles(request)})
    if new_token:
        response["Cache-Control"] = "no-store"  # the token must not outlive this one answer
    return response


@team_view()
def namespaces(request, pk):
    return _namespaces_page(request, engine_of_team(request, pk))


@team_view(Role.MANAGER)
@require_POST
def namespace_register(request, pk):
    engine = engine_of_team(request, pk)
    form = NamespaceForm(request.POST)
    if form.is_valid():
        try:
            record, token = actions.register_namespace(membership=request.membership, engine=engine,
                                                       name=form.cleaned_data["name"])
        except WorldStateError as exc:
            form.add_error("name", exc.message)
        else:
            return _namespaces_page(request, engine, new_token=token, new_namespace=record)
    return _namespaces_page(request, engine, form=form)
