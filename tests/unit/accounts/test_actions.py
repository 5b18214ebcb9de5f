"""Accounts actions: one transaction with its audit rows, and the role checked by the action."""
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from apps.accounts import actions
from apps.accounts.audit import AuditEvent
from apps.accounts.models import AuditEntry, Invitation, Membership, Role


def _membership(personas, name):
    return Membership.objects.get(user=personas.users[name], team=personas.team)


def test_it_creates_the_account_and_the_membership_with_their_audit_rows(personas):
    invitation = Invitation.objects.create(team=personas.team, role=Role.OPERATOR)
    membership = actions.accept_invitation_as_new_user(token=invitation.token, username="newbie",
                                                       password="a long enough passphrase")
    assert (membership.user.username, membership.role) == ("newbie", Role.OPERATOR)
    events = list(AuditEntry.objects.filter(team=personas.team).order_by("id").values_list("action", "actor_name"))
    assert events == [(AuditEvent.ACCOUNT_CREATE, "newbie"), (AuditEvent.INVITATION_ACCEPT, "newbie")]


def test_it_creates_no_account_for_a_used_invitation(personas):
    invitation = Invitation.objects.create(team=personas.team, role=Role.VIEWER)
    actions.accept_invitation_as_new_user(token=invitation.token, username="first", password="pw one two three")
    with pytest.raises(ValidationError, match="not valid any more"):
        actions.accept_invitation_as_new_user(token=invitation.token, username="second",
                                              password="pw one two three")
    assert not get_user_model().objects.filter(username="second").exists()


def test_it_keeps_the_invitation_open_when_the_username_is_taken(personas):
    invitation = Invitation.objects.create(team=personas.team, role=Role.VIEWER)
    with pytest.raises(ValidationError, match="taken"):
        actions.accept_invitation_as_new_user(token=invitation.token, username="viewer",
                                              password="pw one two three")
    invitation.refresh_from_db()
    assert invitation.is_open
    assert not AuditEntry.objects.filter(action=AuditEvent.ACCOUNT_CREATE).exists()


@pytest.mark.parametrize("persona", ["viewer", "operator"])
def test_it_refuses_manager_actions_to_lower_roles_even_without_a_view(personas, persona):
    me = _membership(personas, persona)
    other = _membership(personas, "manager")
    invitation = Invitation.objects.create(team=personas.team, role=Role.VIEWER)
    for call in (lambda: actions.create_invitation(membership=me, role=Role.MANAGER),
                 lambda: actions.revoke_invitation(membership=me, invitation=invitation),
                 lambda: actions.change_role(actor_membership=me, member=other, role=Role.VIEWER),
                 lambda: actions.remove_member(actor_membership=me, member=other)):
        with pytest.raises(PermissionDenied):
            call()
    assert Membership.objects.filter(team=personas.team).count() == 3
    assert not AuditEntry.objects.exists()


def test_it_refuses_to_touch_another_teams_member(personas):
    outsider = Membership.objects.get(user=personas.outsider)
    with pytest.raises(PermissionDenied):
        actions.change_role(actor_membership=_membership(personas, "manager"), member=outsider,
                            role=Role.VIEWER)
    outsider.refresh_from_db()
    assert outsider.role == Role.MANAGER


def test_it_records_audit_events_by_their_enum(personas):
    manager = _membership(personas, "manager")
    actions.create_invitation(membership=manager, role=Role.VIEWER)
    entry = AuditEntry.objects.get()
    assert entry.action == AuditEvent.INVITATION_CREATE == "invitation.create"
    assert entry.outcome == AuditEntry.Outcome.SUCCESS
