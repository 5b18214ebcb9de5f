"""Access matrix of the pricing pages (see tests/access.py for the rules)."""
import pytest

from apps.accounts.models import Role
from apps.deployments.models import TeamApp
from tests.access import PERSONAS, Case, check_case


def objects(personas):
    TeamApp.objects.create(team=personas.team, name="priced", monthly_usd="3.50", renewal_usd="10.50",
                           renewal_flux="17.50")
    return {}

CASES = [
    Case("pricing:estimator", "get", Role.VIEWER),
    Case("pricing:estimator", "get", Role.VIEWER, data={"mode": "resources", "cpu": "1", "ram": 1000, "hdd": 10,
                                                          "instances": 3, "months": 1}),
    Case("pricing:renewals", "get", Role.VIEWER),
    Case("pricing:renewals_csv", "get", Role.VIEWER),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.name}-{i}" for i, c in enumerate(CASES)])
def test_it_access(case, persona, personas, client_as, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    check_case(case, persona, client_as(persona), objects(personas))
