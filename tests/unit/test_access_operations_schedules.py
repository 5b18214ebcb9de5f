"""Access matrix of the Schedules page and its writes (see tests/access.py for the rules): every
member reads the page; managers create, edit and delete windows; operators create, edit, enable,
disable and delete schedules."""
from datetime import time

import pytest

from apps.accounts.models import Role
from apps.deployments.models import TeamApp
from apps.operations.models import OperationSchedule, TeamWindow
from tests.access import PERSONAS, Case, check_case, operated_app


def objects(personas):
    app = TeamApp.objects.get(pk=operated_app(personas, instance=False)["app"])
    window = TeamWindow.objects.create(team=personas.team, name="nights", weekdays=[6], start_time=time(22, 0),
                                       duration_minutes=240, timezone="Europe/Berlin")
    spare = TeamWindow.objects.create(team=personas.team, name="spare", weekdays=[0], start_time=time(3, 0),
                                      duration_minutes=60, timezone="UTC")
    schedule = OperationSchedule.objects.create(team=personas.team, app=app, window=window, operation="restart",
                                                created_by=personas.operator)
    return {"app": app.pk, "window": window.pk, "spare": spare.pk, "schedule": schedule.pk}


WINDOW = {"name": "mornings", "weekdays": ["0", "3"], "start": "05:00", "duration": "60", "timezone": "UTC"}


CASES = [
    Case("operations:schedules", "get", Role.VIEWER),
    Case("operations:window_create", "post", Role.MANAGER, data=WINDOW),
    Case("operations:window_update", "post", Role.MANAGER, lambda o: {"pk": o["window"]}, data=WINDOW),
    Case("operations:window_delete", "post", Role.MANAGER, lambda o: {"pk": o["spare"]}),
    Case("operations:schedule_create", "post", Role.OPERATOR, data={"operation": "restart", "batch": "1"}),
    Case("operations:schedule_update", "post", Role.OPERATOR, lambda o: {"pk": o["schedule"]},
         data={"operation": "stop", "batch": "2"}),
    Case("operations:schedule_enabled", "post", Role.OPERATOR, lambda o: {"pk": o["schedule"]}, data={"enabled": "0"}),
    Case("operations:schedule_delete", "post", Role.OPERATOR, lambda o: {"pk": o["schedule"]}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.name}-{c.method}" for c in CASES])
def test_it_access(case, persona, personas, client_as):
    check_case(case, persona, client_as(persona), objects(personas))
