"""Every write in the accounts app, each one with its audit row in the same transaction.

Actions check the actor's role themselves (views check it too, for the 403 page), so a task or a
future API calling them cannot skip the rule.
"""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts import audit
from apps.accounts.access import require_role
from apps.accounts.audit import AuditEvent
from apps.accounts.models import Invitation, Membership, Role, Team, invitation_token_digest


def create_first_user(*, username: str, password: str, team_name: str):
    """The first account of a fresh panel: a superuser who manages a first team."""
    User = get_user_model()
    with transaction.atomic():
        if User.objects.exists():
            raise PermissionDenied("The panel already has accounts; ask a manager for an invitation.")
        user = User.objects.create_superuser(username=username, password=password)
        team = Team.objects.create(name=team_name)
        Membership.objects.create(team=team, user=user, role=Role.MANAGER)
        audit.record(team=team, actor=user, action=AuditEvent.ACCOUNT_FIRST_USER, target=user)
    return user, team


def create_team(*, actor, name: str) -> Team:
    with transaction.atomic():
        if Team.objects.filter(name__iexact=name).exists():
            raise ValidationError(f"A team named “{name}” already exists.")
        team = Team.objects.create(name=name)
        Membership.objects.create(team=team, user=actor, role=Role.MANAGER)
        audit.record(team=team, actor=actor, action=AuditEvent.TEAM_CREATE, target=team)
    return team


def create_invitation(*, membership: Membership, role: str) -> Invitation:
    require_role(membership, Role.MANAGER)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            team=membership.team, role=role, created_by=membership.user
        )
        audit.record(
            team=membership.team,
            actor=membership.user,
            action=AuditEvent.INVITATION_CREATE,
            target=invitation,
            role=role,
        )
    return invitation


def revoke_invitation(*, membership: Membership, invitation: Invitation) -> None:
    require_role(membership, Role.MANAGER)
    if invitation.team_id != membership.team_id:
        raise PermissionDenied("This invitation belongs to another team.")
    with transaction.atomic():
        invitation.revoked = True
        invitation.save(update_fields=["revoked"])
        audit.record(
            team=membership.team, actor=membership.user, action=AuditEvent.INVITATION_REVOKE,
            target=invitation,
        )


def _open_invitation(token: str) -> Invitation:
    """The invitation behind `token`, locked for this transaction, or a ValidationError."""
    invitation = (
        Invitation.objects.select_for_update().select_related("team").filter(
            token_digest=invitation_token_digest(token)).first()
    )
    if invitation is None or not invitation.is_open:
        raise ValidationError("This invitation link is not valid any more (used, revoked or expired).")
    return invitation


def _join(invitation: Invitation, user) -> Membership:
    if Membership.objects.filter(team=invitation.team, user=user).exists():
        raise ValidationError(f"You are already a member of {invitation.team.name}.")
    membership = Membership.objects.create(team=invitation.team, user=user, role=invitation.role)
    invitation.accepted_by = user
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_by", "accepted_at"])
    audit.record(
        team=invitation.team, actor=user, action=AuditEvent.INVITATION_ACCEPT, target=membership,
        role=invitation.role,
    )
    return membership


def accept_invitation(*, user, token: str) -> Membership:
    """A signed-in user joins the invitation's team."""
    with transaction.atomic():
        return _join(_open_invitation(token), user)


def accept_invitation_as_new_user(*, token: str, username: str, password: str) -> Membership:
    """A visitor creates an account and joins the team, all or nothing: an invitation that was
    used meanwhile leaves no account behind, and a username taken meanwhile leaves the invitation
    open."""
    User = get_user_model()
    try:
        with transaction.atomic():
            invitation = _open_invitation(token)
            user = User.objects.create_user(username=username, password=password)
            audit.record(team=invitation.team, actor=user, action=AuditEvent.ACCOUNT_CREATE,
                         target=user, invitation=invitation.pk)
            return _join(invitation, user)
    except IntegrityError:
        raise ValidationError("This username is taken.") from None


def _other_managers(membership: Membership) -> bool:
    return (
        Membership.objects.filter(team=membership.team, role=Role.MANAGER)
        .exclude(pk=membership.pk)
        .exists()
    )


def _same_team(actor_membership: Membership, member: Membership) -> None:
    require_role(actor_membership, Role.MANAGER)
    if member.team_id != actor_membership.team_id:
        raise PermissionDenied("This member belongs to another team.")


def change_role(*, actor_membership: Membership, member: Membership, role: str) -> Membership:
    _same_team(actor_membership, member)
    if role not in Role.values:
        raise ValidationError("Choose one of the roles: viewer, operator or manager.")
    with transaction.atomic():
        member = Membership.objects.select_for_update().select_related("team", "user").get(pk=member.pk)
        if member.role == Role.MANAGER and role != Role.MANAGER and not _other_managers(member):
            raise ValidationError("A team needs at least one manager; promote someone else first.")
        old = member.role
        member.role = role
        member.save(update_fields=["role"])
        audit.record(
            team=member.team, actor=actor_membership.user, action=AuditEvent.MEMBER_ROLE,
            target=member, old=old, new=role,
        )
    return member


def remove_member(*, actor_membership: Membership, member: Membership) -> None:
    _same_team(actor_membership, member)
    with transaction.atomic():
        if member.role == Role.MANAGER and not _other_managers(member):
            raise ValidationError("A team needs at least one manager; promote someone else first.")
        description = str(member)
        member.delete()
        audit.record(
            team=actor_membership.team, actor=actor_membership.user, action=AuditEvent.MEMBER_REMOVE,
            target=None, member=description,
        )
