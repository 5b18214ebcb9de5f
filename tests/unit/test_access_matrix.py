"""Every view × every persona: outsiders get 404 for team A's objects, low roles get 403.

The matrix must list every URL of the panel's apps: a new view that is not added here fails
`test_matrix_covers_every_view`, so nobody can forget its access check.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import get_resolver, reverse

from apps.accounts.models import Invitation, Membership, Role
from apps.jobs.models import Job

PERSONAS = ("manager", "operator", "viewer", "outsider")
# URL names that are not team views: public pages, sign-in/out, health, admin.
NOT_TEAM_VIEWS = {
    "home", "healthz", "accounts:login", "accounts:logout", "accounts:first_user",
    "accounts:no_team", "accounts:switch_team", "accounts:create_team", "accounts:invitation",
}


@dataclass
class Case:
    name: str
    method: str
    minimum: str  # lowest role that may use it
    kwargs: callable = None  # fixtures -> URL kwargs, for views of one team object
    data: dict | None = None


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
    Case("jobs:poll", "get", Role.VIEWER, lambda o: {"pk": o["job"]}),
    Case("jobs:start", "post", Role.OPERATOR, data={"kind": "check_connectivity"}),
    Case("jobs:cancel", "post", Role.OPERATOR, lambda o: {"pk": o["job"]}),
    Case("accounts:invite", "post", Role.MANAGER, data={"role": "viewer"}),
    Case("accounts:revoke_invitation", "post", Role.MANAGER, lambda o: {"pk": o["invitation"]}),
    Case("accounts:change_role", "post", Role.MANAGER, lambda o: {"pk": o["membership"]}, {"role": "operator"}),
    Case("accounts:remove_member", "post", Role.MANAGER, lambda o: {"pk": o["membership"]}),
]


def expected_status(case: Case, persona: str) -> str:
    if persona == "outsider":
        # The outsider manages team B: team-wide pages show team B; team A's objects do not exist.
        return "404" if case.kwargs else "ok"
    return "ok" if Role.at_least(persona, case.minimum) else "403"


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_access(case, persona, personas, client_as):
    client = client_as(persona)
    kwargs = case.kwargs(objects(personas)) if case.kwargs else {}
    url = reverse(case.name, kwargs=kwargs)
    before = {
        "memberships": Membership.objects.count(),
        "invitations": list(Invitation.objects.values_list("pk", "revoked")),
        "jobs": list(Job.objects.values_list("pk", "status", "cancel_requested")),
    }
    response = getattr(client, case.method)(url, case.data or {})
    expected = expected_status(case, persona)
    if expected == "ok":
        assert response.status_code in (200, 204, 302), response.status_code
    else:
        assert response.status_code == int(expected)
        # A refused request changes nothing.
        assert Membership.objects.count() == before["memberships"]
        assert list(Invitation.objects.values_list("pk", "revoked")) == before["invitations"]
        assert list(Job.objects.values_list("pk", "status", "cancel_requested")) == before["jobs"]
    if expected == "403":
        assert b"role" in response.content


def test_403_names_the_role_needed(personas, client_as):
    response = client_as("viewer").post(reverse("jobs:start"), {"kind": "check_connectivity"})
    assert response.status_code == 403
    assert "This needs the operator role in Team A; you are a viewer." in response.content.decode()


def test_anonymous_is_sent_to_sign_in(personas, client):
    response = client.get(reverse("nodes:fleet"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_matrix_covers_every_view():
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
    covered = {case.name for case in CASES} | NOT_TEAM_VIEWS
    assert names - covered == set(), "views missing from the access matrix"
