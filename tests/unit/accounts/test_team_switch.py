"""The team switcher: only your own teams, any garbage id is a 404 (issue 10 F9), safe `next`."""
import pytest
from django.urls import reverse

from apps.accounts.access import SESSION_TEAM_KEY
from apps.accounts.models import Membership, Role


@pytest.mark.parametrize("team", ["abc", "²", "", "-1", "0", str(2**63), str(10**30), "1e3", " 1 2"])
def test_it_answers_404_for_a_team_id_that_is_not_an_id(personas, client_as, team):
    client = client_as("manager")
    response = client.post(reverse("accounts:switch_team"), {"team": team})
    assert response.status_code == 404


def test_it_answers_404_without_a_team(personas, client_as):
    assert client_as("manager").post(reverse("accounts:switch_team")).status_code == 404


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                      "javascript:alert(1)", ""])
def test_it_never_redirects_off_the_panel(personas, client_as, next_url):
    Membership.objects.create(team=personas.other_team, user=personas.manager, role=Role.VIEWER)
    client = client_as("manager")
    response = client.post(reverse("accounts:switch_team"),
                           {"team": personas.other_team.pk, "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session[SESSION_TEAM_KEY] == personas.other_team.pk


@pytest.mark.parametrize("pk", [str(2**63), "9" * 19, "9" * 30])
@pytest.mark.parametrize("name,method", [
    ("accounts:revoke_invitation", "post"), ("accounts:change_role", "post"),
    ("accounts:remove_member", "post"), ("jobs:detail", "get"), ("jobs:cancel", "post"),
])
def test_it_answers_404_for_huge_ids_in_urls(personas, client_as, pk, name, method):
    url = reverse(name, args=[1]).replace("/1/", f"/{pk}/")
    response = getattr(client_as("manager"), method)(url, {"role": "viewer"})
    assert response.status_code == 404
