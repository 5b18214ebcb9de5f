"""Access matrix of the backup schedule writes (see tests/access.py for the rules): operators
create, edit, pause, resume and delete an app's backup schedules; viewers only read them on the
app's backups page."""
import pytest

from apps.accounts.models import Role
from apps.backups.models import BackupSchedule
from tests.access import PERSONAS, Case, check_case, operated_app


def objects(personas):
    found = operated_app(personas, instance=False)
    schedule = BackupSchedule.objects.create(team=personas.team, app_id=found["app"], components=["web"],
                                             created_by=personas.operator)
    return {**found, "schedule": schedule.pk}


SCHEDULE = {"components": ["web"], "frequency": "daily", "hour": "3", "minute": "0", "weekday": "0",
            "day_of_month": "1", "timezone": "UTC", "window_minutes": "60", "keep_last": "7", "keep_daily": "7",
            "keep_weekly": "4", "keep_monthly": "6"}

CASES = [
    Case("backups:schedule_create", "post", Role.OPERATOR, lambda o: {"pk": o["app"]}, data=SCHEDULE),
    Case("backups:schedule_update", "post", Role.OPERATOR, lambda o: {"pk": o["schedule"]},
         data={**SCHEDULE, "frequency": "weekly"}),
    Case("backups:schedule_enabled", "post", Role.OPERATOR, lambda o: {"pk": o["schedule"]}, data={"enabled": "0"}),
    Case("backups:schedule_delete", "post", Role.OPERATOR, lambda o: {"pk": o["schedule"]}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.name}-{c.method}" for c in CASES])
def test_it_access(case, persona, personas, client_as):
    check_case(case, persona, client_as(persona), objects(personas))
