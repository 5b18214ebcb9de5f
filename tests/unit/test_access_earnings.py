"""Access matrix of the Earnings page (see tests/access.py for the rules)."""
import pytest
from django.utils import timezone

from apps.accounts.models import Role
from apps.earnings.models import NodeEarnings, Reward
from apps.nodes.models import Node
from tests.access import PERSONAS, Case, check_case


def objects(personas):
    node = Node.objects.create(team=personas.team, name="n1", address="127.0.0.1:1/n/0",
                               base_url="http://127.0.0.1:1/n/0", monthly_cost=10)
    NodeEarnings.objects.create(node=node, team=personas.team, stale_reason="connection refused")
    Reward.objects.create(team=personas.team, node=node, txid="a" * 64, vout=1, height=10,
                          satoshis=10**8, paid_at=timezone.now())
    return {"node": node.pk}


CASES = [
    Case("earnings:totals", "get", Role.VIEWER),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_it_access(case, persona, personas, client_as):
    check_case(case, persona, client_as(persona), objects(personas))
