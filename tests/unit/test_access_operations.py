"""Access matrix of the Operations page (see tests/access.py for the rules): operating an app is for
operators; viewers neither see the page nor start an operation."""
import pytest

from apps.accounts.models import Role
from tests.access import PERSONAS, Case, check_case, operated_app


def objects(personas):
    return operated_app(personas)


CASES = [
    Case("operations:operate", "get", Role.OPERATOR, lambda o: {"pk": o["app"]}),
    Case("operations:operate", "post", Role.OPERATOR, lambda o: {"pk": o["app"]},
         data={"operation": "restart", "mode": "global"}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.name}-{c.method}" for c in CASES])
def test_it_access(case, persona, personas, client_as, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    check_case(case, persona, client_as(persona), objects(personas))
