"""The access matrix machinery: each app's test_access_*.py lists its views as Cases.

Rules checked for every case × persona: an outsider (who manages team B) gets 404 for team A's
objects; a member below the case's minimum role gets 403 with a message naming the role; a refused
request changes nothing (the database fingerprint is the same before and after).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.urls import reverse

PERSONAS = ("manager", "operator", "viewer", "outsider")


@dataclass
class Case:
    name: str
    method: str
    minimum: str  # lowest role that may use it
    kwargs: Callable | None = None  # objects -> URL kwargs, for views of one team object
    data: dict | None = None
    ok_statuses: tuple = field(default=(200, 204, 302, 304))


def operated_app(personas, *, instance: bool = True) -> dict:
    """The objects of an operations page's cases: team A's app "webapp" (one component, an owner)
    and, unless told not to, one instance at a documentation address (203.0.113.7), which the
    panel refuses to call at once, so no case reaches a node."""
    from apps.deployments.models import AppInstance, TeamApp

    app = TeamApp.objects.create(team=personas.team, name="webapp", name_key="webapp",
                                 owner="1CbErtneaX2QVyUfwU7JGB7VzvPgrgc3uC",
                                 spec={"version": 8, "name": "webapp", "compose": [{"name": "web"}]})
    found = {"app": app.pk}
    if instance:
        found["instance"] = AppInstance.objects.create(app=app, team=personas.team,
                                                       location="203.0.113.7:16127").pk
    return found


def expected_status(case: Case, persona: str) -> str:
    from apps.accounts.models import Role

    if persona == "outsider":
        # The outsider manages team B: team-wide pages show team B; team A's objects do not exist.
        return "404" if case.kwargs else "ok"
    return "ok" if Role.at_least(persona, case.minimum) else "403"


def database_fingerprint() -> dict:
    """Row counts of every project model: a refused request must not change any of them."""
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"accounts", "jobs", "nodes", "deployments", "pricing", "worldstate", "wallets", "backups",
                                     "earnings"}
        and model._meta.model_name != "auditentry"
    }


def check_case(case: Case, persona: str, client, objects: dict) -> None:
    kwargs = case.kwargs(objects) if case.kwargs else {}
    url = reverse(case.name, kwargs=kwargs)
    before = database_fingerprint()
    response = getattr(client, case.method)(url, case.data or {})
    expected = expected_status(case, persona)
    if expected == "ok":
        assert response.status_code in case.ok_statuses, (url, response.status_code)
        return
    assert response.status_code == int(expected), (url, response.status_code)
    assert database_fingerprint() == before, "a refused request changed the database"
    if expected == "403":
        assert b"role" in response.content
