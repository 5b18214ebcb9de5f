"""Access matrix of the Exec page (see tests/access.py for the rules): running a command in an
app's container is for operators; viewers neither see the page nor start a command."""
import pytest

from apps.accounts.models import Role
from tests.access import PERSONAS, Case, check_case, operated_app


def objects(personas):
    return operated_app(personas)


CASES = [
    Case("operations:exec", "get", Role.OPERATOR, lambda o: {"pk": o["app"]}),
    Case("operations:exec", "post", Role.OPERATOR, lambda o: {"pk": o["app"]},
         data={"command": "echo hello", "component": "web"}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.name}-{c.method}" for c in CASES])
def test_it_access(case, persona, personas, client_as, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    check_case(case, persona, client_as(persona), objects(personas))
