"""Access matrix of the Apps pages (see tests/access.py for the rules).

`objects()` and `CASES` are top level so the write URLs' cases can be appended to the same list."""
import pytest

from apps.accounts.models import Role
from apps.deployments.models import AppInstance, TeamApp
from tests.access import PERSONAS, Case, check_case


def objects(personas):
    app = TeamApp.objects.create(team=personas.team, name="webapp", owner="1CbErtneaX2QVyUfwU7JGB7VzvPgrgc3uC",
                                 spec={"version": 8, "name": "webapp", "compose": []}, instances_wanted=3)
    AppInstance.objects.create(app=app, team=personas.team, location="203.0.113.5:16127")
    dropped = TeamApp.objects.create(team=personas.team, name="oldapp", dropped=True)
    return {"app": app.pk, "dropped": dropped.pk}


CASES = [
    Case("deployments:list", "get", Role.VIEWER),
    # One case per URL: test_query_budgets pins one count per URL name (the tabs run different
    # queries); the tabs' access is in tests/unit/deployments/test_app_page.py.
    Case("deployments:detail", "get", Role.VIEWER, lambda o: {"pk": o["app"]}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_it_access(case, persona, personas, client_as, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    check_case(case, persona, client_as(persona), objects(personas))
