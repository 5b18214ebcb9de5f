"""Access matrix of the world-state live stream page (see tests/access.py for the rules).

The page reads only the panel's database; the engine is the double, as for the other pages.
"""
import pytest
from django.utils import timezone

from apps.accounts.models import Role
from apps.worldstate.models import Engine, EngineLive, LiveUpdate
from tests.access import PERSONAS, Case, check_case


def objects(personas, double):
    double.reset()
    engine = Engine.objects.create(team=personas.team, name="main", base_url=double.url,
                                   namespace="team-a")
    EngineLive.objects.create(engine=engine, version=2, metrics={
        "entities": {"total": 1}, "events": {"total": 2, "rate_per_second": 0.4},
        "websocket": {"connections": 1}, "publishers": {"active": 1}})
    LiveUpdate.objects.bulk_create([
        LiveUpdate(engine=engine, seq=1, entity_id="team-a/x", property_name="n", new=1, at=timezone.now()),
        LiveUpdate(engine=engine, seq=2, entity_id="team-a/x", kind="deleted", at=timezone.now())])
    return {"engine": engine.pk}


def on_engine(o):
    return {"pk": o["engine"]}


CASES = [
    Case("worldstate:live", "get", Role.VIEWER, on_engine, {"prefix": "team-a/"}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_it_access(case, persona, personas, client_as, double):
    check_case(case, persona, client_as(persona), objects(personas, double))
