"""The one family of access checks that every view and task uses.

Rules (DESIGN.md, "The team model"): an object of another team answers 404 (we do not even admit
it exists); a member whose role is too low answers 403 with a message naming the role needed.
"""
from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404
from django.shortcuts import redirect

from apps.accounts.models import Membership, Role, Team

SESSION_TEAM_KEY = "fluxpanel_team_id"


def memberships_of(user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("team")


def current_membership(request) -> Membership | None:
    """The membership for the team chosen in this session (or the user's first team)."""
    if not request.user.is_authenticated:
        return None
    if hasattr(request, "_fluxpanel_membership"):
        return request._fluxpanel_membership
    memberships = memberships_of(request.user)
    team_id = request.session.get(SESSION_TEAM_KEY)
    membership = None
    if team_id is not None:
        membership = memberships.filter(team_id=team_id).first()
    if membership is None:
        membership = memberships.order_by("team__name").first()
        if membership is not None:
            request.session[SESSION_TEAM_KEY] = membership.team_id
    request._fluxpanel_membership = membership
    return membership


def require_role(membership: Membership | None, role: str) -> Membership:
    """Raise 403 with a clear message unless the membership has at least `role`."""
    if membership is None:
        raise PermissionDenied("You are not a member of any team yet.")
    if not membership.can(role):
        raise PermissionDenied(
            f"This needs the {Role(role).label.lower()} role in {membership.team.name}; "
            f"you are a {Role(membership.role).label.lower()}."
        )
    return membership


def require_role_audited(membership: Membership | None, role: str, view: str) -> Membership:
    """require_role for an action function: a refusal is also recorded as access.denied, naming
    `view` (e.g. "deployments.actions.add_app") and the roles needed and held."""
    try:
        return require_role(membership, role)
    except PermissionDenied:
        if membership is not None:
            from apps.accounts import audit

            audit.record(team=membership.team, actor=membership.user, outcome=audit.Outcome.DENIED,
                         action=audit.AuditEvent.ACCESS_DENIED, view=view, needed=role, had=membership.role)
        raise


def refusal_text(exc: ValidationError | PermissionDenied) -> str:
    """What an action's refusal says to the person: a ValidationError's first message, or the
    PermissionDenied text."""
    return exc.messages[0] if isinstance(exc, ValidationError) else str(exc)


def team_object_or_404(queryset: QuerySet | type[Model], team: Team, **lookup):
    """Fetch an object that belongs to `team`; another team's object is a plain 404."""
    if isinstance(queryset, type):
        queryset = queryset.objects.all()
    obj = queryset.filter(team=team, **lookup).first()
    if obj is None:
        raise Http404("No such object in this team.")
    return obj


def team_view(role: str = Role.VIEWER):
    """Decorate a view: signed in, in a team, with at least `role`.

    The view receives `request.membership` and `request.team`. A user with no team is sent to the
    page that creates one or explains how to get an invitation.
    """

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            membership = current_membership(request)
            if membership is None:
                return redirect("accounts:no_team")
            try:
                require_role(membership, role)
            except PermissionDenied:
                if request.method not in ("GET", "HEAD", "OPTIONS"):
                    _audit_denied(request, membership, role)
                raise
            request.membership = membership
            request.team = membership.team
            return view(request, *args, **kwargs)

        wrapper.required_role = role
        return wrapper

    return decorator


def _audit_denied(request, membership: Membership, role: str) -> None:
    """A refused write is part of the audit trail too (who tried what, and that it was denied)."""
    from apps.accounts.audit import AuditEvent, Outcome, record

    match = getattr(request, "resolver_match", None)
    record(team=membership.team, actor=membership.user, outcome=Outcome.DENIED,
           action=AuditEvent.ACCESS_DENIED, view=match.view_name if match else request.path[:200],
           needed=role, had=membership.role)


def member_for_task(user_id: int, team_id: int, role: str) -> Membership:
    """The same check for background tasks, which run without a request."""
    membership = Membership.objects.select_related("team").filter(
        user_id=user_id, team_id=team_id
    ).first()
    return require_role(membership, role)
