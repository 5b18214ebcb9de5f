"""Access matrix of the merged Logs page (see tests/access.py for the rules): reading, polling and
downloading an app's logs is for every member of the app's team (viewers included)."""
import pytest

from apps.accounts.models import Role
from apps.deployments.models import TeamApp
from tests.access import PERSONAS, Case, check_case


def objects(personas):
    app = TeamApp.objects.create(team=personas.team, name="webapp", name_key="webapp",
                                 spec={"version": 8, "name": "webapp", "compose": [{"name": "web"}]})
    return {"app": app.pk}


CASES = [
    Case("operations:logs", "get", Role.VIEWER, lambda o: {"pk": o["app"]}),
    Case("operations:logs", "post", Role.VIEWER, lambda o: {"pk": o["app"]}, data={"q": "x"}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.name}-{c.method}" for c in CASES])
def test_it_access(case, persona, personas, client_as):
    check_case(case, persona, client_as(persona), objects(personas))
