"""Live tabs about the node's apps: the containers and installed apps (linked to the team's app
pages), and Syncthing, which replicates the apps' volumes between their instances."""
from __future__ import annotations

import time

from django.urls import reverse

from apps.deployments.models import TeamApp
from apps.nodes.tabs_common import DASH, MAX_ROWS, mapping, optional, rows, shaped, text, whole
from fluxpanel.fluxos.client import FluxClientError, FluxError
from fluxpanel.fluxos.client.reasons import explain

MAX_FOLDERS = 12  # folder states asked per tab (one call each)
HEALTHY_STATES = ("idle",)
BUSY_STATES = ("syncing", "scanning", "sync-preparing", "scan-waiting", "sync-waiting")


def _first(value) -> str:
    return text(value[0]) if isinstance(value, list) and value else text(value)


def team_app_links(team_id: int, names) -> dict[str, str]:
    """App name (lower case) → the team's app page, for the team's own apps among `names`."""
    keys = {n.lower() for n in names if n and n != DASH}
    found = TeamApp.objects.filter(team_id=team_id, name_key__in=keys, dropped=False)
    return {key: reverse("deployments:detail", args=[pk]) for key, pk in found.values_list("name_key", "pk")}


def container_app(name: str) -> str:
    """FluxOS containers are `/flux<component>_<app>` (or `/flux<app>`, `/zel…` before v4)."""
    bare = name.lstrip("/")
    for prefix in ("flux", "zel"):
        if bare.startswith(prefix):
            bare = bare[len(prefix):]
            break
    return bare.rsplit("_", 1)[-1]


def apps(client, node) -> dict:
    running = [mapping(c) for c in rows(shaped(client.running_apps, []))]
    installed = [mapping(a) for a in rows(shaped(client.installed_apps, []))]
    running_rows = [{"name": _first(c.get("Names")), "image": text(c.get("Image")),
                     "state": text(c.get("State")), "status": text(c.get("Status"))} for c in running]
    for row in running_rows:
        row["app"] = container_app(row["name"])
    installed_rows = [{"name": text(a.get("name")), "version": text(a.get("version")),
                       "owner": text(a.get("owner"))} for a in installed]
    links = team_app_links(node.team_id, [r["name"] for r in installed_rows] + [r["app"] for r in running_rows])
    for row in installed_rows + running_rows:
        row["link"] = links.get((row.get("app") or row["name"]).lower())
    return {"running": running_rows, "installed": installed_rows,
            "team_apps": sum(1 for r in installed_rows if r["link"])}


def folder_app(folder_id: str) -> str:
    """FluxOS names an app's folder after its component identifier: `flux<component>_<app>`."""
    return container_app(folder_id)


def folder_verdict(state: str, status: dict) -> tuple[str, bool | None]:
    errors = (whole(status.get("errors")) or 0) + (whole(status.get("pullErrors")) or 0)
    need = whole(status.get("needFiles")) or 0
    if state == "error" or errors:
        return f"not replicating: {errors or 'an'} error{'s' if errors != 1 else ''}", False
    if state in BUSY_STATES or need:
        return f"catching up ({need} files to fetch)", None
    if state in HEALTHY_STATES:
        return "in sync", True
    return f"state {state}", None


def syncthing(client, node) -> dict:
    from apps.nodes.live import live_deadline_s  # the tab's own limit (live imports this module)

    budget_s = live_deadline_s()
    try:  # FluxOS answers Syncthing's failure as its error envelope: that is the finding here
        health = mapping(shaped(client.syncthing_health, {}))
    except FluxError as exc:
        health = {"status": f"not answering ({exc.message[:120]})"}
    running = text(health.get("status")).upper() == "OK"
    connections = mapping(mapping(optional(client.syncthing_connections, {})).get("connections"))
    devices = [mapping(c) for c in list(connections.values())[:MAX_ROWS]]
    connected = sum(1 for c in devices if c.get("connected") is True)
    folders = [mapping(f) for f in rows(optional(client.syncthing_folders, []))]
    folder_rows, stop_at = [], time.monotonic() + budget_s
    for folder in folders[:MAX_FOLDERS]:
        folder_id = text(folder.get("id"))
        row = {"id": folder_id, "app": folder_app(folder_id), "type": text(folder.get("type")),
               "paused": folder.get("paused") is True}
        if time.monotonic() > stop_at:
            row.update(state=DASH, verdict="not asked: the tab's time ran out", ok=None)
        else:
            try:
                status = mapping(client.syncthing_folder_status(folder_id))
            except FluxClientError as exc:
                status, row["error"] = {}, explain(exc).short
            state = text(status.get("state"))
            verdict, ok = ("not answered: " + row["error"], False) if row.get("error") else folder_verdict(state, status)
            row.update(state=state, verdict="paused" if row["paused"] else verdict,
                       ok=None if row["paused"] else ok)
        folder_rows.append(row)
    broken = [r for r in folder_rows if r["ok"] is False]
    healthy = running and not broken and (connected > 0 or not folder_rows)
    return {
        "running": running, "health": text(health.get("status")), "connected": connected,
        "devices": len(devices), "folders": folder_rows, "more_folders": max(0, len(folders) - MAX_FOLDERS),
        "healthy": healthy, "broken": len(broken),
    }
