"""Backup schedules on the app's backups page (`backups:app`): the partial `backups/_schedules.html`
(every member reads it; `schedules_context` fills it in) and its writes (operators), each posting
to its own URL. An htmx post is answered with the partial again: after a refusal with what was
typed and each reason next to its field. A plain post goes back to the page with a message."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.accounts.access import team_object_or_404, team_view
from apps.accounts.models import Role
from apps.backups import schedule_actions as actions
from apps.backups import schedules
from apps.backups.models import BackupSchedule
from apps.deployments.models import TeamApp

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TEXT_FIELDS = ("instance_location", "frequency", "minute", "hour", "weekday", "day_of_month", "timezone",
               "window_minutes", "keep_last", "keep_daily", "keep_weekly", "keep_monthly")
NEW = {"instance_location": "", "frequency": BackupSchedule.Frequency.DAILY, "minute": "0", "hour": "3",
       "weekday": "0", "day_of_month": "1", "timezone": "UTC", "window_minutes": "60", "keep_last": "7",
       "keep_daily": "7", "keep_weekly": "4", "keep_monthly": "6"}


def _form(app, schedule: BackupSchedule | None = None, data=None, errors=None) -> dict:
    """A form's state: typed values after a refusal, else the schedule's, else the defaults."""
    if data is not None:
        values = {key: data.get(key, "")[:100] for key in TEXT_FIELDS}
        values["components"] = set(data.getlist("components"))
        values["remove_from_node"] = bool(data.get("remove_from_node"))
    elif schedule is not None:
        values = {key: str(getattr(schedule, key)) for key in TEXT_FIELDS}
        values["components"] = set(schedule.components)
        values["remove_from_node"] = schedule.remove_from_node
    else:
        values = dict(NEW, components=set(actions.app_components(app)), remove_from_node=True)
    return {**values, "pk": schedule.pk if schedule else None, "errors": errors or {}}


def _when(moment, now) -> dict | None:
    if moment is None:
        return None
    return {"at": moment, "text": f"{moment:%a %Y-%m-%d %H:%M %Z}", "future": moment > now}


def schedules_context(membership, app, now, *, new_form: dict | None = None, edited: dict | None = None) -> dict:
    """What `backups/_schedules.html` shows: each schedule of `app` with its next run, a missed
    run, its last outcome and its edit form; the form of a new one. `edited` is the state of one
    schedule's form after a refusal (it replaces that schedule's form and is shown open)."""
    rows = []
    for schedule in BackupSchedule.objects.filter(team=membership.team, app=app).select_related("last_job", "created_by"):
        zone = schedules.zone(schedule)
        form = edited if edited is not None and edited["pk"] == schedule.pk else _form(app, schedule)
        rows.append({
            "schedule": schedule, "describe": schedules.describe(schedule),
            "next": _when(schedules.next_due(schedule, now) if schedule.enabled else None, now),
            "missed": schedules.missed(schedule, now),
            "last_run": _when(schedule.last_run_at.astimezone(zone) if schedule.last_run_at else None, now),
            "form": form, "open": form is edited,
        })
    return {
        "backup_schedules": rows, "schedule_app": app,
        "schedule_form": new_form or _form(app),
        "schedule_components": actions.app_components(app),
        "schedule_frequencies": BackupSchedule.Frequency.choices,
        "schedule_weekdays": list(enumerate(WEEKDAYS)),
        "can_schedule": membership.can(Role.OPERATOR),
    }


def _values(request) -> dict:
    post = request.POST
    values = {key: post.get(key, "") for key in TEXT_FIELDS}
    values["components"] = post.getlist("components")
    values["remove_from_node"] = bool(post.get("remove_from_node"))
    return values


def _errors(exc: ValidationError) -> dict:
    """Field → message; a message for the whole form under "form" (templates cannot read "__all__")."""
    if hasattr(exc, "error_dict"):
        return {field: " ".join(texts) for field, texts in exc.message_dict.items()}
    return {"form": " ".join(exc.messages)}


def _answer(request, app, *, done: str = "", error: str = "", **forms):
    if request.htmx:
        context = schedules_context(request.membership, app, timezone.now(), **forms)
        context.update({"schedule_notice": done, "schedule_error": error})
        return render(request, "backups/_schedules.html", context)
    if error:
        messages.error(request, error)
    elif done:
        messages.success(request, done)
    return redirect("backups:app", app.pk)


def _refused(request, app, exc: ValidationError, form: dict):
    """A refused form: the partial with it (htmx), or the reasons as a message on the page."""
    errors = _errors(exc)
    if not request.htmx:
        return _answer(request, app, error=" ".join(errors.values()))
    if form["pk"] is None:
        return _answer(request, app, new_form=form)
    return _answer(request, app, edited=form)


def _schedule_or_404(request, pk) -> BackupSchedule:
    return team_object_or_404(BackupSchedule.objects.select_related("app", "team"), request.team, pk=pk)


@require_POST
@team_view(Role.OPERATOR)
def schedule_create(request, pk):
    app = team_object_or_404(TeamApp.objects.filter(dropped=False), request.team, pk=pk)
    try:
        actions.create_schedule(membership=request.membership, app=app, **_values(request))
    except ValidationError as exc:
        return _refused(request, app, exc, _form(app, data=request.POST, errors=_errors(exc)))
    return _answer(request, app, done="Backup schedule created.")


@require_POST
@team_view(Role.OPERATOR)
def schedule_update(request, pk):
    schedule = _schedule_or_404(request, pk)
    try:
        actions.update_schedule(membership=request.membership, schedule=schedule, **_values(request))
    except ValidationError as exc:
        schedule.refresh_from_db()  # the page shows the saved schedule, the form what was typed
        return _refused(request, schedule.app, exc, _form(schedule.app, schedule, data=request.POST,
                                                          errors=_errors(exc)))
    return _answer(request, schedule.app, done="Backup schedule saved; it now runs as you.")


@require_POST
@team_view(Role.OPERATOR)
def schedule_enabled(request, pk):
    schedule = _schedule_or_404(request, pk)
    actions.set_schedule_enabled(membership=request.membership, schedule=schedule,
                                 enabled=request.POST.get("enabled") == "1")
    return _answer(request, schedule.app,
                   done="Backup schedule resumed." if schedule.enabled else "Backup schedule paused.")


@require_POST
@team_view(Role.OPERATOR)
def schedule_delete(request, pk):
    schedule = _schedule_or_404(request, pk)
    app = schedule.app
    actions.delete_schedule(membership=request.membership, schedule=schedule)
    return _answer(request, app, done="Backup schedule deleted; its backups are kept.")
