from apps.accounts.access import current_membership, memberships_of
from apps.accounts.models import Role


def team_context(request):
    """The current team and the user's other teams, for the navigation and the team switcher."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    membership = current_membership(request)
    return {
        "current_membership": membership,
        "current_team": membership.team if membership else None,
        "my_memberships": memberships_of(request.user).order_by("team__name"),
        "can": role_flags(membership),
    }


def role_flags(membership) -> dict:
    """`can.operator` / `can.manager` in templates: show a control only to a role that may use it
    (the view still checks; this only keeps a viewer from meeting a button that answers 403)."""
    return {role.value: bool(membership and membership.can(role)) for role in Role}
