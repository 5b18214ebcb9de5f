"""Access matrix of the builder's Pay step (see tests/access.py for the rules): the watcher's
state, polled by the Pay tab, is for every member of the draft's team; starting a test install of
the message on a node is for operators."""
import pytest

from apps.accounts.models import Role
from apps.builder.models import AppDraft
from tests.access import PERSONAS, Case, check_case


def objects(personas):
    draft = AppDraft.objects.create(team=personas.team, name="webapp", status=AppDraft.Status.AWAITING_PAYMENT,
                                    message_hash="ab" * 32,
                                    spec={"version": 8, "name": "webapp", "owner": "1CbErtneaX2QVyUfwU7JGB7VzvPgrgc3uC"})
    return {"draft": draft.pk}


CASES = [
    Case("builder:pay_status", "get", Role.VIEWER, lambda o: {"pk": o["draft"]}),
    Case("builder:test_install", "post", Role.OPERATOR, lambda o: {"pk": o["draft"]}, data={"node": "1"}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_it_access(case, persona, personas, client_as, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    check_case(case, persona, client_as(persona), objects(personas))
