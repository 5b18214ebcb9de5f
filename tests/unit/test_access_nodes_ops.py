"""Access matrix of the node admin page (see tests/access.py for the rules): node admin operations
and FluxOS's logs are for managers; operators and viewers neither see the page nor start one.
Team A's node is at a documentation address (203.0.113.7), so no case reaches a node."""
import pytest

from apps.accounts.models import Role
from tests.access import PERSONAS, Case, check_case


def objects(personas):
    from apps.nodes.models import Node

    node = Node.objects.create(team=personas.team, name="ops-node", address="203.0.113.7:16127",
                               base_url="http://203.0.113.7:16127")
    return {"node": node.pk}


CASES = [
    Case("nodes:ops", "get", Role.MANAGER),
    Case("nodes:ops", "post", Role.MANAGER, data={"operation": "start_daemon", "mode": "rolling"}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.name}-{c.method}" for c in CASES])
def test_it_access(case, persona, personas, client_as, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    check_case(case, persona, client_as(persona), objects(personas))


@pytest.mark.parametrize("persona", ["operator", "viewer"])
def test_it_refuses_the_logs_partial_below_manager(persona, personas, client_as):
    node = objects(personas)["node"]
    answer = client_as(persona).get("/fleet/ops/", {"part": "logs", "node": node, "log": "error"},
                                    HTTP_HX_REQUEST="true")
    assert answer.status_code == 403 and "manager" in answer.content.decode().lower()


def test_it_hides_another_teams_node_from_the_logs_partial(personas, client_as):
    node = objects(personas)["node"]
    answer = client_as("outsider").get("/fleet/ops/", {"part": "logs", "node": node, "log": "error"})
    assert answer.status_code == 404
