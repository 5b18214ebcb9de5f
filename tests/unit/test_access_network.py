"""Access matrix of the Network page (see tests/access.py for the rules). The stats API URL of the
tests is a documentation address, refused at once, so no case reaches the network."""
import pytest

from apps.accounts.models import Role
from tests.access import PERSONAS, Case, check_case


def objects(personas):
    return {}


CASES = [
    Case("network:overview", "get", Role.VIEWER),
    Case("network:overview", "get", Role.VIEWER, data={"part": "network"}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_it_access(case, persona, personas, client_as):
    check_case(case, persona, client_as(persona), objects(personas))
