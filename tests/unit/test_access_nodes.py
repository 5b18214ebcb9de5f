"""Access matrix of the fleet pages (see tests/access.py for the rules)."""
import pytest

from apps.accounts.models import Role
from apps.nodes.models import AlertRule, Node, NodeGroup
from tests.access import PERSONAS, Case, check_case

NOT_TEAM_VIEWS = {"metrics"}  # bearer-token auth, tested in test_nodes_metrics


def objects(personas):
    node = Node.objects.create(team=personas.team, name="n1", address="127.0.0.1:1/n/0",
                               base_url="http://127.0.0.1:1/n/0")
    rule = AlertRule.objects.create(team=personas.team, kind="node_down", email="ops@example.com")
    NodeGroup.objects.create(team=personas.team, name="existing")
    return {"node": node.pk, "rule": rule.pk}


CASES = [
    Case("nodes:fleet", "get", Role.VIEWER),
    Case("nodes:settings", "get", Role.VIEWER),
    Case("nodes:detail", "get", Role.VIEWER, lambda o: {"pk": o["node"]}),
    # The page's live tab (?section=…): an unreachable node still renders it (with the reason).
    Case("nodes:detail", "get", Role.VIEWER, lambda o: {"pk": o["node"]}, {"section": "daemon"}),
    Case("nodes:register", "post", Role.MANAGER, data={"nodes": "203.0.113.9"}),
    Case("nodes:register_owner", "post", Role.MANAGER, data={"owner": "1abc"}),
    Case("nodes:sweep_now", "post", Role.OPERATOR),
    Case("nodes:group_create", "post", Role.MANAGER, data={"name": "eu"}),
    Case("nodes:interval_set", "post", Role.MANAGER, data={"seconds": 120}),
    Case("nodes:alert_create", "post", Role.MANAGER, data={"kind": "node_down", "email": "a@example.com"}),
    Case("nodes:alert_delete", "post", Role.MANAGER, lambda o: {"pk": o["rule"]}),
    Case("nodes:metrics_token", "post", Role.MANAGER),
    Case("nodes:edit", "post", Role.MANAGER, lambda o: {"pk": o["node"]}, {"name": "renamed"}),
    Case("nodes:delete", "post", Role.MANAGER, lambda o: {"pk": o["node"]}),
    Case("nodes:claim", "post", Role.OPERATOR, lambda o: {"pk": o["node"]}, {"minutes": 30}),
    Case("nodes:release", "post", Role.OPERATOR, lambda o: {"pk": o["node"]}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_it_access(case, persona, personas, client_as, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    check_case(case, persona, client_as(persona), objects(personas))
