"""Access matrix of the merged Logs page (see tests/access.py for the rules): reading, polling and
downloading an app's logs is for every member of the app's team (viewers included)."""
import pytest

from apps.accounts.models import Role
from tests.access import PERSONAS, Case, check_case, operated_app


def objects(personas):
    return operated_app(personas, instance=False)


CASES = [
    Case("operations:logs", "get", Role.VIEWER, lambda o: {"pk": o["app"]}),
    Case("operations:logs", "post", Role.VIEWER, lambda o: {"pk": o["app"]}, data={"q": "x"}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.name}-{c.method}" for c in CASES])
def test_it_access(case, persona, personas, client_as):
    check_case(case, persona, client_as(persona), objects(personas))
