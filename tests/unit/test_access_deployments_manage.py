"""Access matrix of the Apps settings page and its writes (see tests/access.py for the rules)."""
import pytest

from apps.accounts.models import Role
from apps.deployments.models import TeamApp, WatchedOwner
from apps.nodes.models import Node
from tests.access import PERSONAS, Case, check_case


def objects(personas):
    node = Node.objects.create(team=personas.team, name="n1", address="127.0.0.1:1/n/0",
                               base_url="http://127.0.0.1:1/n/0")
    owner = WatchedOwner.objects.create(team=personas.team, address="0x" + "ab" * 20)
    app = TeamApp.objects.create(team=personas.team, name="web")
    dropped = TeamApp.objects.create(team=personas.team, name="old", dropped=True)
    return {"node": node.pk, "owner": owner.pk, "app": app.pk, "dropped": dropped.pk}


CASES = [
    Case("deployments:settings", "get", Role.VIEWER),
    Case("deployments:owner_add", "post", Role.MANAGER, data={"address": "0x" + "cd" * 20, "label": "x"}),
    Case("deployments:owner_remove", "post", Role.MANAGER, lambda o: {"pk": o["owner"]}),
    Case("deployments:sources_set", "post", Role.MANAGER, data={"gateway_url": "", "interval_seconds": 600}),
    Case("deployments:app_add", "post", Role.MANAGER, data={"name": "newapp"}),
    Case("deployments:app_drop", "post", Role.MANAGER, lambda o: {"pk": o["app"]}),
    Case("deployments:app_restore", "post", Role.MANAGER, lambda o: {"pk": o["dropped"]}),
    Case("deployments:sync_now", "post", Role.OPERATOR),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_it_access(case, persona, personas, client_as, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    check_case(case, persona, client_as(persona), objects(personas))
