"""Every write in the accounts app, each one with its audit row."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts import audit
from apps.accounts.models import Invitation, Membership, Role, Team


def create_first_user(*, username: str, password: str, team_name: str):
    """The first account of a fresh panel: a superuser who manages a first team."""
    User = get_user_model()
    with transaction.atomic():
        if User.objects.exists():
            raise PermissionDenied("The panel already has accounts; ask a manager for an invitation.")
        user = User.objects.create_superuser(username=username, password=password)
        team = Team.objects.create(name=team_name)
        Membership.objects.create(team=team, user=user, role=Role.MANAGER)
        audit.record(team=team, actor=user, action="account.first_user", target=user)
    return user, team


def create_team(*, actor, name: str) -> Team:
    with transaction.atomic():
        if Team.objects.filter(name__iexact=name).exists():
            raise ValidationError(f"A team named “{name}” already exists.")
        team = Team.objects.create(name=name)
        Membership.objects.create(team=team, user=actor, role=Role.MANAGER)
        audit.record(team=team, actor=actor, action="team.create", target=team)
    return team


def create_invitation(*, membership: Membership, role: str) -> Invitation:
    with transaction.atomic():
        invitation = Invitation.objects.create(
            team=membership.team, role=role, created_by=membership.user
        )
        audit.record(
            team=membership.team,
            actor=membership.user,
            action="invitation.create",
            target=invitation,
            role=role,
        )
    return invitation


def revoke_invitation(*, membership: Membership, invitation: Invitation) -> None:
    with transaction.atomic():
        invitation.revoked = True
        invitation.save(update_fields=["revoked"])
        audit.record(
            team=membership.team, actor=membership.user, action="invitation.revoke",
            target=invitation,
        )


def accept_invitation(*, user, token: str) -> Membership:
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update().select_related("team").filter(token=token).first()
        )
        if invitation is None or not invitation.is_open:
            raise ValidationError("This invitation link is not valid any more (used, revoked or expired).")
        if Membership.objects.filter(team=invitation.team, user=user).exists():
            raise ValidationError(f"You are already a member of {invitation.team.name}.")
        membership = Membership.objects.create(team=invitation.team, user=user, role=invitation.role)
        invitation.accepted_by = user
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_by", "accepted_at"])
        audit.record(
            team=invitation.team, actor=user, action="invitation.accept", target=membership,
            role=invitation.role,
        )
    return membership


def _other_managers(membership: Membership) -> bool:
    return (
        Membership.objects.filter(team=membership.team, role=Role.MANAGER)
        .exclude(pk=membership.pk)
        .exists()
    )


def change_role(*, actor_membership: Membership, member: Membership, role: str) -> Membership:
    with transaction.atomic():
        if member.role == Role.MANAGER and role != Role.MANAGER and not _other_managers(member):
            raise ValidationError("A team needs at least one manager; promote someone else first.")
        old = member.role
        member.role = role
        member.save(update_fields=["role"])
        audit.record(
            team=member.team, actor=actor_membership.user, action="member.role",
            target=member, old=old, new=role,
        )
    return member


def remove_member(*, actor_membership: Membership, member: Membership) -> None:
    with transaction.atomic():
        if member.role == Role.MANAGER and not _other_managers(member):
            raise ValidationError("A team needs at least one manager; promote someone else first.")
        description = str(member)
        member.delete()
        audit.record(
            team=actor_membership.team, actor=actor_membership.user, action="member.remove",
            target=None, member=description,
        )
