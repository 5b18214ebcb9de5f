"""Access matrix of the Stats page (see tests/access.py for the rules): the page and its charts
poll are for every member of the app's team (viewers included); docker inspect, top and changes
of a container are for operators and above (inspect shows the environment)."""
import pytest

from apps.accounts.models import Role
from tests.access import PERSONAS, Case, check_case, operated_app


def objects(personas):
    return operated_app(personas)


CASES = [
    Case("operations:stats", "get", Role.VIEWER, lambda o: {"pk": o["app"]}),
    Case("operations:stats", "get", Role.VIEWER, lambda o: {"pk": o["app"]}, data={"part": "charts"}),
    *[Case("operations:stats", "get", Role.OPERATOR, lambda o: {"pk": o["app"]},
           data={"part": name, "instance": "1", "component": "web"}) for name in ("inspect", "top", "changes")],
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.name}-{(c.data or {}).get('part', 'page')}" for c in CASES])
def test_it_access(case, persona, personas, client_as):
    made = objects(personas)
    if case.data and "instance" in case.data:  # the instance's real id
        case = Case(case.name, case.method, case.minimum, case.kwargs, {**case.data, "instance": str(made["instance"])})
    check_case(case, persona, client_as(persona), made)
