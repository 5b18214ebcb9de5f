"""Every view × every persona: outsiders get 404 for team A's objects, low roles get 403.

Each app lists its views in tests/unit/test_access_<app>.py (`CASES`, and `NOT_TEAM_VIEWS` for
public ones); `test_it_matrix_covers_every_view` fails for a URL that no such file lists, so nobody
can forget a view's access check.
"""
from __future__ import annotations

import importlib
import pathlib

import pytest
from django.urls import get_resolver, reverse

from apps.accounts.models import Invitation, Membership, Role
from apps.jobs.models import Job
from tests.access import PERSONAS, Case, check_case

# URL names that are not team views: public pages, sign-in/out, health, admin.
NOT_TEAM_VIEWS = {
    "home", "healthz", "accounts:login", "accounts:logout", "accounts:first_user",
    "accounts:no_team", "accounts:switch_team", "accounts:create_team", "accounts:invitation",
}


def objects(personas):
    job = Job.objects.create(team=personas.team, kind="check_connectivity", requested_by=personas.manager)
    invitation = Invitation.objects.create(team=personas.team, role=Role.VIEWER)
    viewer_membership = Membership.objects.get(team=personas.team, user=personas.viewer)
    return {"job": job.pk, "invitation": invitation.pk, "membership": viewer_membership.pk}


CASES = [
    Case("nodes:fleet", "get", Role.VIEWER),
    Case("deployments:list", "get", Role.VIEWER),
    Case("pricing:estimator", "get", Role.VIEWER),
    Case("worldstate:engines", "get", Role.VIEWER),
    Case("accounts:team", "get", Role.VIEWER),
    Case("accounts:audit", "get", Role.VIEWER),
    Case("jobs:list", "get", Role.VIEWER),
    Case("jobs:detail", "get", Role.VIEWER, lambda o: {"pk": o["job"]}),
    Case("jobs:start", "post", Role.OPERATOR, data={"kind": "check_connectivity"}),
    Case("jobs:cancel", "post", Role.OPERATOR, lambda o: {"pk": o["job"]}),
    Case("accounts:invite", "post", Role.MANAGER, data={"role": "viewer"}),
    Case("accounts:revoke_invitation", "post", Role.MANAGER, lambda o: {"pk": o["invitation"]}),
    Case("accounts:change_role", "post", Role.MANAGER, lambda o: {"pk": o["membership"]}, {"role": "operator"}),
    Case("accounts:remove_member", "post", Role.MANAGER, lambda o: {"pk": o["membership"]}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_it_access(case, persona, personas, client_as):
    check_case(case, persona, client_as(persona), objects(personas))


def test_it_403_names_the_role_needed(personas, client_as):
    response = client_as("viewer").post(reverse("jobs:start"), {"kind": "check_connectivity"})
    assert response.status_code == 403
    assert "This needs the operator role in Team A; you are a viewer." in response.content.decode()


def test_it_refused_write_is_audited_as_denied(personas, client_as):
    from apps.accounts.models import AuditEntry

    client_as("viewer").post(reverse("accounts:invite"), {"role": "manager"})
    entry = AuditEntry.objects.get(outcome="denied")
    assert (entry.actor_name, entry.action, entry.team) == ("viewer", "access.denied", personas.team)
    assert entry.detail == {"view": "accounts:invite", "needed": "manager", "had": "viewer"}


def test_it_anonymous_is_sent_to_sign_in(personas, client):
    response = client.get(reverse("nodes:fleet"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_it_matrix_covers_every_view():
    names = set()

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                if pattern.namespace == "admin":
                    continue
                walk(pattern.url_patterns, f"{pattern.namespace}:" if pattern.namespace else prefix)
            elif pattern.name:
                names.add(prefix + pattern.name)

    walk(get_resolver().url_patterns)
    covered = set(NOT_TEAM_VIEWS)
    for path in pathlib.Path(__file__).parent.glob("test_access_*.py"):
        module = importlib.import_module(f"tests.unit.{path.stem}")
        covered |= {case.name for case in module.CASES} | getattr(module, "NOT_TEAM_VIEWS", set())
    assert names - covered == set(), "views missing from the access matrix"
