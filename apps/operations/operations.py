"""App operations across a team app's instances (issue 15 items 1–2): what each operation is, the
zelidauth it runs with, whether a node may be touched now, and one call on one instance.

- Authorisation without keys: the team's live app-owner authorisation for the app's owner (FluxOS
  accepts a self-signed phrase for 2 hours on every node, `appownerabove`), else a stored session
  on the instance's node (apps.wallets.node_sessions). Looked up when the job runs, never stored.
- A node is not touched while it is under a maintenance claim, or while its FluxOS maintenance
  window is closing (fewer than WINDOW_MINUTES left: it must confirm first, the Fleet page's mark).
- FluxOS errors inside HTTP 200 are FluxError (the client's envelopes): failures, never success.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from django.utils import timezone

from apps.nodes.clients import node_client


class OperationFailed(Exception):
    """A job of an app (operation, exec) cannot go on; its text is the job's error."""


def member_and_app(job, app_id: int, what: str):
    """The member who started `job`, still an operator of its team, and the team app it acts on;
    OperationFailed saying why not (a job runs later than it was asked for)."""
    from django.core.exceptions import PermissionDenied

    from apps.accounts.access import member_for_task
    from apps.accounts.models import Role
    from apps.deployments.models import TeamApp

    try:
        membership = member_for_task(job.requested_by_id, job.team_id, Role.OPERATOR)
    except PermissionDenied:
        raise OperationFailed(f"The member who started {what} can no longer act for the team.") from None
    team_app = TeamApp.objects.filter(team_id=job.team_id, pk=app_id).first()
    if team_app is None:
        raise OperationFailed("The app is no longer one of the team's apps.")
    return membership, team_app


def instance_label(instance) -> str:
    """How a job's output names an instance: its location, and the team's node there if known."""
    return instance.location + (f" (node {instance.node.name})" if instance.node_id else "")


def failure_reason(exc) -> str:
    """One failed call of one instance, in words for the job's output and outcome."""
    from fluxpanel.fluxos.client import FluxClientError, FluxError, NodeTimeout, Unauthorized
    from fluxpanel.fluxos.client.reasons import explain

    if isinstance(exc, Unauthorized):
        return f"FluxOS refused the authorisation: {exc.message}"
    if isinstance(exc, FluxError):
        return f"FluxOS answered an error: {exc.message}"
    if isinstance(exc, NodeTimeout):
        return f"the node did not answer in time ({explain(exc).short})"
    if isinstance(exc, FluxClientError):
        return f"the node failed ({explain(exc).short})"
    if isinstance(exc, ValueError):
        return f"not a node address: {exc}"
    return f"panel error: {type(exc).__name__}"


@dataclass(frozen=True)
class Operation:
    name: str
    label: str
    component_ok: bool = True
    waits_running: bool = True  # a rolling operation waits for the instance to run again
    destructive: bool = False


OPERATIONS = {op.name: op for op in (
    Operation("restart", "Restart"),
    Operation("start", "Start"),
    Operation("stop", "Stop", waits_running=False),
    Operation("pause", "Pause", waits_running=False),
    Operation("unpause", "Unpause"),
    Operation("soft_redeploy", "Soft redeploy"),
    Operation("hard_redeploy", "Hard redeploy (wipes data)", destructive=True),
    Operation("remove", "Remove", component_ok=False, waits_running=False, destructive=True),
)}
MODES = {"one": "One instance", "selected": "Selected instances", "global": "All, through FluxOS's global route",
         "rolling": "Rolling (N at a time)"}
MAX_BATCH = 20
CALL_TIMEOUT = (3.05, 30.0)
CALL_DEADLINE_S = 60.0
STREAM_TIMEOUT = (3.05, 120.0)
POLL_TIMEOUT = (3.05, 5.0)
WINDOW_MINUTES = 30


def owner_auth(membership, app) -> str | None:
    from apps.wallets.node_sessions import app_owner_zelidauth

    return app_owner_zelidauth(membership, app.owner) if app.owner else None


def zelidauth_for_instance(membership, app, instance, owner: str | None) -> str | None:
    """The app owner's authorisation (any node), else the team's session on the instance's node."""
    from apps.wallets.node_sessions import zelidauth_for

    if owner:
        return owner
    if instance.node_id is None:
        return None
    return zelidauth_for(instance.node, membership)


def authorisation_summary(membership, app, instances) -> tuple[bool, str]:
    """(usable at all, what the page says)."""
    if owner_auth(membership, app):
        return True, f"The team holds a live app-owner authorisation by {app.owner}: every node accepts it."
    from apps.wallets.models import NodeSession

    node_ids = [i.node_id for i in instances if i.node_id]
    covered = set(NodeSession.objects.filter(node_id__in=node_ids, expires_at__gt=timezone.now())
                  .values_list("node_id", flat=True))
    if covered:
        return True, (f"No app-owner authorisation by {app.owner or 'the owner'}; the team's node sessions "
                      f"cover {len(covered)} of {len(instances)} instance(s) (global operations need the owner's).")
    return False, (f"No valid authorisation: the team holds no live app-owner authorisation by "
                   f"{app.owner or 'the app owner'} and no session on the instances' nodes.")


def blocked_reason(node) -> str:
    """Why this node must not be touched now ("" when it may)."""
    if node is None:
        return ""
    from apps.nodes.models import MaintenanceClaim, NodeSnapshot

    claim = MaintenanceClaim.active().filter(node=node).select_related("user").first()
    if claim is not None:
        return f"{claim.user.username if claim.user else 'someone'} holds node {node.name} for maintenance"
    snap = NodeSnapshot.objects.filter(node=node).first()
    minutes = snap.maintenance_minutes if snap is not None else None
    if minutes is not None and minutes < WINDOW_MINUTES:
        return f"node {node.name} is inside its FluxOS maintenance window ({minutes} min left to confirm)"
    return ""


def to_job_page(request, job):
    """After a job was started from a page: its Jobs page (HX-Redirect for htmx), with a message."""
    from django.contrib import messages
    from django.http import HttpResponse
    from django.shortcuts import redirect
    from django.urls import reverse

    url = reverse("jobs:detail", args=[job.pk])
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    messages.success(request, f"{job.target}: started as job #{job.pk}.")
    return redirect(url)


def wait_unblocked(ctx, label: str, node) -> str:
    """"" once the node may be touched; else why it still may not after the bounded wait
    (OPERATIONS_BLOCKED_WAIT_S, polled every OPERATIONS_BLOCKED_POLL_S; app and node admin jobs)."""
    from django.conf import settings

    reason = blocked_reason(node)
    if not reason:
        return ""
    until = time.monotonic() + float(settings.OPERATIONS_BLOCKED_WAIT_S)
    every = float(settings.OPERATIONS_BLOCKED_POLL_S)
    ctx.log(f"{label}: waiting — {reason}.")
    while reason:
        if time.monotonic() >= until:
            return f"still blocked after waiting: {reason}"
        time.sleep(every)
        ctx.check_cancelled()
        reason = blocked_reason(node)
    ctx.log(f"{label}: no longer blocked.")
    return ""


def client_for(instance, zelidauth: str | None, *, timeout=None, deadline_s: float = CALL_DEADLINE_S):
    from django.conf import settings

    from apps.deployments.sources import location_url

    if timeout is None:  # how long one lifecycle call may take (OPERATIONS_READ_TIMEOUT_S)
        timeout = (CALL_TIMEOUT[0], float(settings.OPERATIONS_READ_TIMEOUT_S))

    return node_client(location_url(instance.location), zelidauth=zelidauth, timeout=timeout,
                       deadline_s=deadline_s)


def ask_all(calls: dict, budget_s: float, *, pool: int = 100) -> dict:
    """Run `calls` (key -> function of no argument, each one node call) in parallel and wait at
    most `budget_s` in all: key -> (result, "") or (None, why not, in reasons.explain's words).
    One slow or broken node never holds up or fails the others; a call still running when the
    budget is spent is abandoned (its client's own deadline ends it)."""
    import concurrent.futures

    from fluxpanel.fluxos.client.reasons import explain

    if not calls:
        return {}
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(pool, len(calls))))
    try:
        futures = {executor.submit(call): key for key, call in calls.items()}
        done, _ = concurrent.futures.wait(futures, timeout=budget_s)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    answers = {}
    for future, key in futures.items():
        if future not in done:
            answers[key] = (None, f"no answer within {budget_s:g} s")
            continue
        try:
            answers[key] = (future.result(), "")
        except Exception as exc:  # noqa: BLE001 - every failure of a node becomes its reason
            answers[key] = (None, explain(exc).short)
    return answers


def perform(client, operation: str, app_name: str, component: str | None, *, global_: bool = False,
            on_step=None) -> str:
    """One operation through one node; FluxOS's final message, FluxError/FluxClientError otherwise."""
    if operation in ("start", "stop", "restart", "pause", "unpause"):
        call = getattr(client, f"{operation}_app")
        return call(app_name, None if global_ else component, global_=global_)
    if operation in ("soft_redeploy", "hard_redeploy"):
        force = operation == "hard_redeploy"
        if component and not global_:
            stream = client.redeploy_component(app_name, component, force=force, timeout=STREAM_TIMEOUT)
        else:
            stream = client.redeploy_app(app_name, force=force, global_=global_, timeout=STREAM_TIMEOUT)
    elif operation == "remove":
        stream = client.remove_app(app_name, global_=global_, timeout=STREAM_TIMEOUT)
    else:
        raise ValueError(f"unknown operation {operation}")
    for step in stream:
        if on_step is not None and isinstance(step, dict):
            text = step.get("status") if isinstance(step.get("status"), str) else None
            data = step.get("data")
            if isinstance(data, dict):
                text = data.get("message") or text
            elif isinstance(data, str):
                text = data
            if text and text not in ("success", "error"):
                on_step(str(text)[:300])
    return stream.result or "done"


def runs(client, app, component: str | None) -> bool:
    """Is the app (or component) running on the node? Its `/apps/listrunningapps`, as app sync."""
    from apps.deployments.sync import component_names, running_components

    running = running_components(client.running_apps()).get(app.name_key, set())
    wanted = [component] if component else component_names(app.spec or {})
    if not wanted:
        return bool(running)
    return all(name in running for name in wanted) or (None in running and not component)


def wait_running(instance, app, component, until: float, *, check=None, every: float = 1.0) -> str:
    """Poll until the instance runs again: "" then, else why not by `until`."""
    from fluxpanel.fluxos.client import FluxClientError

    client = client_for(instance, None, timeout=POLL_TIMEOUT)
    last = "it did not run again"
    started = time.monotonic()
    while True:
        try:
            if runs(client, app, component):
                return ""
            last = "it is not running yet"
        except FluxClientError as exc:
            last = f"its node did not answer ({exc.message})"
        if time.monotonic() >= until:
            return last
        if check is not None:
            check()
        # Often at first (a restart takes seconds), then every `every` seconds at most.
        time.sleep(min(every, 0.05 + (time.monotonic() - started) * 0.05))
