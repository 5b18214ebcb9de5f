"""Access matrix of the Build tab's Review part: the check on a node (see tests/access.py)."""
import pytest

from apps.accounts.models import Role
from apps.builder.models import AppDraft
from tests.access import PERSONAS, Case, check_case


def objects(personas):
    draft = AppDraft.objects.create(team=personas.team, name="webapp", spec={"version": 8, "name": "webapp"})
    return {"draft": draft.pk}


CASES = [
    # No node chosen (none answered): the page says so; the access rule is what counts here.
    Case("builder:node_check", "post", Role.OPERATOR, lambda o: {"pk": o["draft"]}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_it_access(case, persona, personas, client_as, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    check_case(case, persona, client_as(persona), objects(personas))
