"""Access matrix of the builder's Build tab save URL (see tests/access.py for the rules)."""
import pytest

from apps.accounts.models import Role
from apps.builder.models import AppDraft
from tests.access import PERSONAS, Case, check_case


def objects(personas):
    draft = AppDraft.objects.create(team=personas.team, name="webapp",
                                    spec={"version": 8, "name": "webapp", "owner": "1CbErtneaX2QVyUfwU7JGB7VzvPgrgc3uC"})
    return {"draft": draft.pk}


CASES = [
    Case("builder:save", "post", Role.OPERATOR, lambda o: {"pk": o["draft"]},
         data={"revision": "1", "name": "webapp", "c0-name": "web"}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_it_access(case, persona, personas, client_as, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    check_case(case, persona, client_as(persona), objects(personas))
