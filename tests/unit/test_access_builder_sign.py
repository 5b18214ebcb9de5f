"""Access matrix of the builder's Sign step (see tests/access.py for the rules), and the public
long-message URL ZelCore fetches (no session: it is the wallet's device asking)."""
import pytest

from apps.accounts.models import Role
from apps.builder.models import AppDraft
from tests.access import PERSONAS, Case, check_case


def objects(personas):
    draft = AppDraft.objects.create(team=personas.team, name="webapp",
                                    spec={"version": 8, "name": "webapp", "owner": "1CbErtneaX2QVyUfwU7JGB7VzvPgrgc3uC"})
    return {"draft": draft.pk}


CASES = [
    # Without a source the draft is not sent (the page says why): the access rule is what counts.
    Case("builder:sign", "post", Role.OPERATOR, lambda o: {"pk": o["draft"]}),
    # Nothing failed to retry: the page says so; the access rule is what counts.
    Case("builder:submit_retry", "post", Role.OPERATOR, lambda o: {"pk": o["draft"]}),
]
# Public by design: an unguessable, expiring token (tests/unit/wallets/test_long_messages.py).
NOT_TEAM_VIEWS = {"wallets:request_message"}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_it_access(case, persona, personas, client_as, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    check_case(case, persona, client_as(persona), objects(personas))
