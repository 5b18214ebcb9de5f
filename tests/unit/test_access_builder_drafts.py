"""Access matrix of the drafts list, a new draft and the draft page (see tests/access.py)."""
import pytest

from apps.accounts.models import Role
from apps.builder.models import AppDraft
from apps.deployments.models import TeamApp
from tests.access import PERSONAS, Case, check_case


def objects(personas):
    draft = AppDraft.objects.create(team=personas.team, name="webapp", spec={"version": 8, "name": "webapp"})
    app = TeamApp.objects.create(team=personas.team, name="liveapp", owner="1CbErtneaX2QVyUfwU7JGB7VzvPgrgc3uC",
                                 spec={"version": 8, "name": "liveapp", "expire": 88000, "compose": []},
                                 message_height=2_100_000, expire=88000)
    return {"draft": draft.pk, "app": app.pk}


CASES = [
    Case("builder:list", "get", Role.VIEWER),
    Case("builder:new", "post", Role.OPERATOR),
    Case("builder:draft", "get", Role.VIEWER, lambda o: {"pk": o["draft"]}),
    # Drafts from anywhere (an empty paste or name is refused on the list page: 200).
    Case("builder:import", "post", Role.OPERATOR),
    Case("builder:duplicate", "post", Role.OPERATOR, lambda o: {"pk": o["app"]}),
    Case("builder:from_app", "post", Role.OPERATOR, lambda o: {"pk": o["app"]}, {"kind": "renew", "months": "1"}),
    Case("builder:abandon", "post", Role.OPERATOR, lambda o: {"pk": o["draft"]}, {"reason": "test"}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_it_access(case, persona, personas, client_as, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    check_case(case, persona, client_as(persona), objects(personas))
