"""Access matrix of the node page's newer live tabs (`?section=`), which read the team's apps,
the fleet's versions and keep payment figures: viewers may read them, team B sees a 404."""
import pytest

from apps.accounts.models import Role
from apps.nodes.models import Node
from tests.access import PERSONAS, Case, check_case


def objects(personas):
    # A documentation address: the panel refuses to call it at once, so no case reaches a node.
    node = Node.objects.create(team=personas.team, name="n1", address="203.0.113.9:16127",
                               base_url="http://203.0.113.9:16127")
    return {"node": node.pk}


CASES = [
    Case("nodes:detail", "get", Role.VIEWER, lambda o: {"pk": o["node"]}, {"section": section})
    for section in ("benchmarks", "apps", "peers", "syncthing", "services", "payments")
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[c.data["section"] for c in CASES])
def test_it_access(case, persona, personas, client_as):
    check_case(case, persona, client_as(persona), objects(personas))
