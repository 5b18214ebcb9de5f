"""The Schedules page, `/operate/schedules/` (every member reads it): the team's maintenance windows
with their next opening, and the rolling operations scheduled into them with their next and last
run. `?window=<id>` / `?schedule=<id>` fill the edit form in. The writes post to their own URLs
(managers: windows; operators: schedules) and come back here; a refused form is shown again with
what was typed and the reason next to its field."""
from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.accounts.access import team_object_or_404, team_view
from apps.accounts.models import Role
from apps.deployments.models import TeamApp
from apps.operations import operations as ops
from apps.operations import schedule_actions as actions
from apps.operations import schedules, windows
from apps.operations.models import OperationSchedule, TeamWindow
from fluxpanel.params import parse_id

NEW_WINDOW = {"name": "", "weekdays": set(), "start": "02:00", "duration": "120", "timezone": "UTC"}
NEW_SCHEDULE = {"app": "", "window": "", "operation": "restart", "component": "", "batch": "1",
                "skip_failures": False}


def _when(moment, now) -> dict | None:
    """A moment for the page: in its own zone (the window's) and as a distance from now."""
    if moment is None:
        return None
    return {"at": moment, "text": f"{moment:%a %Y-%m-%d %H:%M %Z}", "future": moment > now}


def _window_form(window: TeamWindow | None = None, data=None, errors=None) -> dict:
    if data is not None:
        values = {"name": data.get("name", ""), "weekdays": set(data.getlist("weekdays")),
                  "start": data.get("start", ""), "duration": data.get("duration", ""),
                  "timezone": data.get("timezone", "")}
    elif window is not None:
        values = {"name": window.name, "weekdays": {str(d) for d in window.weekdays},
                  "start": f"{window.start_time:%H:%M}", "duration": str(window.duration_minutes),
                  "timezone": window.timezone}
    else:
        values = dict(NEW_WINDOW)
    return {**values, "pk": window.pk if window else None, "errors": errors or {}}


def _schedule_form(schedule: OperationSchedule | None = None, data=None, errors=None) -> dict:
    if data is not None:
        values = {key: data.get(key, "") for key in ("app", "window", "operation", "component", "batch")}
        values["skip_failures"] = bool(data.get("skip_failures"))
    elif schedule is not None:
        values = {"app": str(schedule.app_id), "window": str(schedule.window_id), "operation": schedule.operation,
                  "component": schedule.component, "batch": str(schedule.batch),
                  "skip_failures": schedule.skip_failures}
    else:
        values = dict(NEW_SCHEDULE)
    return {**values, "pk": schedule.pk if schedule else None, "errors": errors or {}}


def _render(request, *, window_form=None, schedule_form=None):
    now = timezone.now()
    team = request.team
    window_rows = list(TeamWindow.objects.filter(team=team))
    schedule_rows = list(OperationSchedule.objects.filter(team=team)
                         .select_related("app", "window", "last_job", "created_by").defer("app__spec"))
    used = {row.window_id for row in schedule_rows}
    if window_form is None:
        editing = parse_id(request.GET.get("window", ""))
        window_form = _window_form(next((w for w in window_rows if w.pk == editing), None))
    if schedule_form is None:
        editing = parse_id(request.GET.get("schedule", ""))
        schedule_form = _schedule_form(next((s for s in schedule_rows if s.pk == editing), None))
    context = {
        "windows": [{"window": w, "describe": windows.describe(w), "used": w.pk in used,
                     "inside": windows.is_inside(w, now),
                     "next": _when(windows.next_start(w, now), now)} for w in window_rows],
        "schedules": [{"schedule": s, "describe": windows.describe(s.window),
                       "operation": actions.SCHEDULABLE.get(s.operation),
                       "next": _when(schedules.next_run(s, now), now),
                       "last_run": _when(s.last_run_at.astimezone(windows.zone(s.window)) if s.last_run_at else None,
                                         now)} for s in schedule_rows],
        "apps": TeamApp.objects.filter(team=team, dropped=False).only("pk", "name").order_by("name"),
        "operations": list(actions.SCHEDULABLE.values()),
        "weekday_names": list(enumerate(windows.WEEKDAY_NAMES)),
        "window_form": window_form, "schedule_form": schedule_form, "max_batch": ops.MAX_BATCH,
        "can_windows": request.membership.can(Role.MANAGER), "can_schedules": request.membership.can(Role.OPERATOR),
    }
    template = "operations/_schedules_body.html" if request.htmx else "operations/schedules.html"
    return render(request, template, context)


def _back():
    return redirect("operations:schedules")


@team_view(Role.VIEWER)
def schedules_page(request):
    return _render(request)


def _window_values(request) -> dict:
    post = request.POST
    return {"name": post.get("name", ""), "weekdays": post.getlist("weekdays"), "start": post.get("start", ""),
            "duration": post.get("duration", ""), "timezone": post.get("timezone", "")}


def _submit(request, write, *, form: str, typed, done: str):
    """Run one write and come back to the page; a refusal shows the page again with what was typed
    (`typed(errors=...)` is the form's state) and each reason next to its field."""
    try:
        write()
    except ValidationError as exc:
        return _render(request, **{form: typed(errors=_errors(exc))})
    messages.success(request, done)
    return _back()


@team_view(Role.MANAGER)
@require_POST
def window_create(request):
    return _submit(request, lambda: actions.create_window(membership=request.membership, **_window_values(request)),
                   form="window_form", typed=partial(_window_form, data=request.POST),
                   done=f"Window “{request.POST.get('name', '').strip()}” created.")


@team_view(Role.MANAGER)
@require_POST
def window_update(request, pk):
    window = team_object_or_404(TeamWindow, request.team, pk=pk)
    return _submit(request, lambda: actions.update_window(membership=request.membership, window=window,
                                                          **_window_values(request)),
                   form="window_form", typed=partial(_window_form, window, data=request.POST),
                   done=f"Window “{window.name}” saved; its schedules follow it.")


@team_view(Role.MANAGER)
@require_POST
def window_delete(request, pk):
    window = team_object_or_404(TeamWindow, request.team, pk=pk)
    try:
        actions.delete_window(membership=request.membership, window=window)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, f"Window “{window.name}” deleted.")
    return _back()


def _schedule_values(request) -> dict:
    post = request.POST
    app_id, window_id = parse_id(post.get("app", "")), parse_id(post.get("window", ""))
    return {"app": TeamApp.objects.filter(team=request.team, pk=app_id).first() if app_id else None,
            "window": TeamWindow.objects.filter(team=request.team, pk=window_id).first() if window_id else None,
            "operation": post.get("operation", ""), "component": post.get("component", ""),
            "batch": post.get("batch", ""), "skip_failures": bool(post.get("skip_failures"))}


@team_view(Role.OPERATOR)
@require_POST
def schedule_create(request):
    return _submit(request, lambda: actions.create_schedule(membership=request.membership, **_schedule_values(request)),
                   form="schedule_form", typed=partial(_schedule_form, data=request.POST), done="Schedule created.")


@team_view(Role.OPERATOR)
@require_POST
def schedule_update(request, pk):
    schedule = _schedule_or_404(request, pk)
    return _submit(request, lambda: actions.update_schedule(membership=request.membership, schedule=schedule,
                                                            **_schedule_values(request)),
                   form="schedule_form", typed=partial(_schedule_form, schedule, data=request.POST),
                   done="Schedule saved; it now runs as you.")


def _schedule_or_404(request, pk) -> OperationSchedule:
    return team_object_or_404(OperationSchedule.objects.select_related("app", "window"), request.team, pk=pk)


@team_view(Role.OPERATOR)
@require_POST
def schedule_enabled(request, pk):
    schedule = _schedule_or_404(request, pk)
    actions.set_schedule_enabled(membership=request.membership, schedule=schedule,
                                 enabled=request.POST.get("enabled") == "1")
    messages.success(request, "Schedule enabled." if schedule.enabled else "Schedule disabled.")
    return _back()


@team_view(Role.OPERATOR)
@require_POST
def schedule_delete(request, pk):
    schedule = _schedule_or_404(request, pk)
    actions.delete_schedule(membership=request.membership, schedule=schedule)
    messages.success(request, "Schedule deleted.")
    return _back()


def _errors(exc: ValidationError) -> dict:
    """Field → message; a message for the whole form under "form" (templates cannot read "__all__")."""
    if hasattr(exc, "error_dict"):
        return {field: " ".join(texts) for field, texts in exc.message_dict.items()}
    return {"form": " ".join(exc.messages)}
