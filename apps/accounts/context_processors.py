from apps.accounts.access import current_membership, memberships_of


def team_context(request):
    """The current team and the user's other teams, for the navigation and the team switcher."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    membership = current_membership(request)
    return {
        "current_membership": membership,
        "current_team": membership.team if membership else None,
        "my_memberships": memberships_of(request.user).order_by("team__name"),
    }
