"""`{% app_schedules app %}`: the app's scheduled operations, one line each, on its Operations page
(which links to the Schedules page). One query, whatever the page around it does."""
from django import template
from django.utils import timezone

from apps.operations import schedules, windows
from apps.operations.models import OperationSchedule
from apps.operations.operations import OPERATIONS

register = template.Library()


@register.inclusion_tag("operations/_schedules_app_lines.html")
def app_schedules(app):
    now = timezone.now()
    lines = []
    for schedule in OperationSchedule.objects.filter(app=app, enabled=True).select_related("window"):
        op = OPERATIONS.get(schedule.operation)
        upcoming = schedules.next_run(schedule, now)
        lines.append({
            "text": f"{windows.cadence(schedule.window)} rolling {(op.label if op else schedule.operation).lower()}"
                    + (f" of {schedule.component}" if schedule.component else ""),
            "window": schedule.window.name,
            "next": f"{upcoming:%a %Y-%m-%d %H:%M %Z}" if upcoming else "—",
        })
    return {"lines": lines}
