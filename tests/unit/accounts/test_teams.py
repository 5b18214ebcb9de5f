"""Teams, invitations, roles and the audit log, through the pages a user clicks."""
from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.accounts.access import SESSION_TEAM_KEY
from apps.accounts.models import AuditEntry, Invitation, Membership, Role, Team


def test_it_first_user_signup_only_on_an_empty_panel(db, client):
    response = client.get("/")
    assert response["Location"] == reverse("accounts:first_user")
    response = client.post(reverse("accounts:first_user"), {
        "username": "ada", "password": "a long enough passphrase", "team_name": "Ops",
    })
    assert response.status_code == 302
    ada = get_user_model().objects.get(username="ada")
    assert Membership.objects.get(user=ada).role == Role.MANAGER
    client.logout()
    # Once an account exists the sign-up page is gone.
    response = client.post(reverse("accounts:first_user"), {
        "username": "eve", "password": "a long enough passphrase", "team_name": "Evil",
    })
    assert response["Location"] == reverse("accounts:login")
    assert not get_user_model().objects.filter(username="eve").exists()


def test_it_first_user_form_errors_change_nothing(db, client):
    response = client.post(reverse("accounts:first_user"), {"username": "", "password": "123", "team_name": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not get_user_model().objects.exists()
    assert not Team.objects.exists()


def test_it_invitation_link_lets_a_new_user_join_once(personas, client_as, client):
    manager = client_as("manager")
    manager.post(reverse("accounts:invite"), {"role": "operator"})
    invitation = Invitation.objects.get(team=personas.team)
    manager.logout()
    url = reverse("accounts:invitation", args=[invitation.token])
    response = client.post(url, {"username": "newbie", "password": "a long enough passphrase"})
    assert response.status_code == 302
    newbie = get_user_model().objects.get(username="newbie")
    assert Membership.objects.get(user=newbie, team=personas.team).role == Role.OPERATOR
    client.logout()
    # Used once: a second visitor is refused and no account is created.
    response = client.post(url, {"username": "second", "password": "a long enough passphrase"})
    assert "not valid any more" in response.content.decode()
    assert not get_user_model().objects.filter(username="second").exists()
    assert AuditEntry.objects.filter(team=personas.team, action="invitation.accept").count() == 1


def test_it_team_switcher_only_switches_to_own_teams(personas, client_as):
    client = client_as("manager")
    response = client.post(reverse("accounts:switch_team"), {"team": personas.other_team.pk})
    assert response.status_code == 404
    assert client.session.get(SESSION_TEAM_KEY) != personas.other_team.pk
    Membership.objects.create(team=personas.other_team, user=personas.manager, role=Role.VIEWER)
    response = client.post(reverse("accounts:switch_team"), {"team": personas.other_team.pk, "next": "/jobs/"})
    assert response["Location"] == "/jobs/"
    assert client.session[SESSION_TEAM_KEY] == personas.other_team.pk
    page = client.get(reverse("accounts:team")).content.decode()
    assert "Team B" in page and "outsider" in page


def test_it_last_manager_cannot_be_demoted(personas, client_as):
    client = client_as("manager")
    mine = Membership.objects.get(user=personas.manager, team=personas.team)
    response = client.post(reverse("accounts:change_role", args=[mine.pk]), {"role": "viewer"}, follow=True)
    assert "at least one manager" in response.content.decode()
    mine.refresh_from_db()
    assert mine.role == Role.MANAGER


def test_it_garbage_role_changes_nothing(personas, client_as):
    viewer = Membership.objects.get(user=personas.viewer, team=personas.team)
    response = client_as("manager").post(
        reverse("accounts:change_role", args=[viewer.pk]), {"role": "overlord"}, follow=True
    )
    assert "Choose one of the roles" in response.content.decode()
    viewer.refresh_from_db()
    assert viewer.role == Role.VIEWER


def test_it_audit_log_records_and_filters(personas, client_as):
    client = client_as("manager")
    viewer = Membership.objects.get(user=personas.viewer, team=personas.team)
    client.post(reverse("accounts:change_role", args=[viewer.pk]), {"role": "operator"})
    client.post(reverse("accounts:invite"), {"role": "viewer"})
    entry = AuditEntry.objects.get(action="member.role")
    assert (entry.actor_name, entry.outcome, entry.detail) == ("manager", "success", {"old": "viewer", "new": "operator"})
    page = client.get(reverse("accounts:audit"), {"action": "member.role"}).content.decode()
    # (the action filter lists every action, so look at the table's rows)
    assert "<code>member.role</code>" in page and "<code>invitation.create</code>" not in page
    # Team B's audit log does not show team A's rows.
    other = client_as("outsider").get(reverse("accounts:audit")).content.decode()
    assert "<code>member.role</code>" not in other


def test_it_answers_404_for_an_invitation_token_that_cannot_be_one(db, client):
    # A NUL byte reached the database lookup before (PostgreSQL refuses it: a 500).
    for token in ("abc%00def", "%C2%B2", "a%20b"):
        assert client.get(f"/accounts/invite/{token}/").status_code == 404, token


def test_it_keeps_an_invitation_token_only_encrypted_yet_the_manager_can_copy_the_link(personas, client_as):
    import io
    import re

    from django.core.management import call_command

    manager = client_as("manager")
    manager.post(reverse("accounts:invite"), {"role": "viewer"})
    page = manager.get(reverse("accounts:team")).content.decode()
    token = re.search(r"/accounts/invite/([A-Za-z0-9_-]{20,})/", page).group(1)
    dump = io.StringIO()
    call_command("dumpdata", "accounts", stdout=dump)
    assert token not in dump.getvalue()  # neither the row nor its audit entry holds it in clear
    assert Invitation.objects.get(team=personas.team).token == token
    assert token not in client_as("operator").get(reverse("accounts:team")).content.decode()
