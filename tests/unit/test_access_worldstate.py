"""Access matrix of the world-state pages (see tests/access.py for the rules).

The engine is the double over real HTTP on loopback, so allowed requests really reach it.
"""
import pytest

from apps.accounts.models import Role
from apps.worldstate.models import Engine
from tests.access import PERSONAS, Case, check_case

DEAD_URL = "http://127.0.0.1:9"  # the discard port: nothing listens, refused at once


def objects(personas, double):
    double.reset()
    double.seed({"team-a/x": {"status": "ok"}, "team-a/y": {"status": "ok"}})
    engine = Engine.objects.create(team=personas.team, name="main", base_url=double.url,
                                   namespace="team-a", bridge_enabled=True)
    return {"engine": engine.pk}


def on_engine(o):
    return {"pk": o["engine"]}


CASES = [
    Case("worldstate:engines", "get", Role.VIEWER),
    Case("worldstate:engine_register", "post", Role.MANAGER,
         data={"name": "second", "base_url": DEAD_URL}),
    Case("worldstate:engine", "get", Role.VIEWER, on_engine),
    Case("worldstate:engine_settings", "post", Role.MANAGER, on_engine,
         {"name": "renamed", "base_url": DEAD_URL, "namespace": "team-a"}),
    Case("worldstate:engine_delete", "post", Role.MANAGER, on_engine),
    Case("worldstate:bridge_publish", "post", Role.MANAGER, on_engine),
    Case("worldstate:entities", "get", Role.VIEWER, on_engine, {"prefix": "team-a/"}),
    Case("worldstate:entity", "get", Role.VIEWER, on_engine, {"id": "team-a/x"}),
    Case("worldstate:publish", "post", Role.OPERATOR, on_engine,
         {"entity_id": "team-a/x", "properties": '{"status": "new"}', "stream": "panel.manual",
          "source": "test"}),
    Case("worldstate:batch", "post", Role.OPERATOR, on_engine,
         {"events": '[{"entity_id": "team-a/z", "properties": {"n": 1}}]',
          "stream": "panel.batch", "source": "test"}),
    Case("worldstate:delete", "post", Role.OPERATOR, on_engine,
         {"entity_ids": ["team-a/x"], "expected": "1", "confirm": "1"}),
    Case("worldstate:connectors", "get", Role.VIEWER, on_engine),
    Case("worldstate:config", "get", Role.VIEWER, on_engine),
    Case("worldstate:config_edit", "post", Role.MANAGER, on_engine,
         {"rate_limit_enabled": "on", "rate_limit_per_namespace_per_minute": 500,
          "body_size_limit_single_bytes": 1048576, "body_size_limit_batch_bytes": 10485760}),
    Case("worldstate:namespaces", "get", Role.VIEWER, on_engine),
    Case("worldstate:namespace_register", "post", Role.MANAGER, on_engine, {"name": "fresh"}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_it_access(case, persona, personas, client_as, double):
    check_case(case, persona, client_as(persona), objects(personas, double))


@pytest.mark.parametrize("persona", ["viewer", "operator"])
def test_it_refused_writes_never_reach_the_engine(persona, personas, client_as, double):
    """A 403 is decided before any call: the engine's entities are untouched."""
    from django.urls import reverse

    pk = objects(personas, double)["engine"]
    client = client_as(persona)
    if persona == "viewer":
        client.post(reverse("worldstate:publish", args=[pk]),
                    {"entity_id": "team-a/x", "properties": '{"status": "bad"}',
                     "stream": "a", "source": "b"})
        client.post(reverse("worldstate:delete", args=[pk]),
                    {"entity_ids": ["team-a/x"], "expected": "1", "confirm": "1"})
    client.post(reverse("worldstate:config_edit", args=[pk]),
                {"rate_limit_per_namespace_per_minute": 1, "body_size_limit_single_bytes": 1,
                 "body_size_limit_batch_bytes": 1})
    assert double.entity_count() == 2
    assert double.call(lambda engine: engine.entities["team-a/x"].properties) == {"status": "ok"}
    assert double.call(lambda engine: engine.config["body_size_limit_single_bytes"]) == 1048576


@pytest.mark.parametrize("persona,status", [("viewer", 200), ("outsider", 404)])
def test_it_the_entity_pages_htmx_poll_has_the_pages_access(persona, status, personas, client_as, double):
    """The live part is the entity page's own URL asked by htmx (no separate poll URL)."""
    from django.urls import reverse

    pk = objects(personas, double)["engine"]
    response = client_as(persona).get(reverse("worldstate:entity", args=[pk]), {"id": "team-a/x"},
                                      HTTP_HX_REQUEST="true")
    assert response.status_code == status
    if status == 200:
        assert b'id="entity-live"' in response.content and b"<html" not in response.content
