"""Sign-up of the first user, teams, members, invitations, the team switcher and the audit log."""
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts import actions
from apps.accounts.access import SESSION_TEAM_KEY, memberships_of, team_object_or_404, team_view
from apps.accounts.audit_page import audit_page
from apps.accounts.forms import (
    AuditFilterForm,
    FirstUserForm,
    InvitationForm,
    NewAccountForm,
    RoleForm,
    TeamForm,
)
from apps.accounts.models import AuditEntry, Invitation, Membership, Role, invitation_token_digest
from apps.accounts.navigation import safe_next_url
from apps.accounts.signin import PASSWORD_BACKEND
from fluxpanel.params import parse_id


def first_user(request):
    """Sign-up page that exists only while the panel has no account at all."""
    if get_user_model().objects.exists():
        messages.info(request, "The panel already has accounts: sign in, or ask for an invitation.")
        return redirect("accounts:login")
    form = FirstUserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user, team = actions.create_first_user(
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            team_name=form.cleaned_data["team_name"],
        )
        login(request, user, backend=PASSWORD_BACKEND)
        request.session[SESSION_TEAM_KEY] = team.pk
        messages.success(request, f"Welcome! You manage {team.name}.")
        return redirect("home")
    return render(request, "accounts/first_user.html", {"form": form})


@login_required
def no_team(request):
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = actions.create_team(actor=request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            form.add_error("name", error)
        else:
            request.session[SESSION_TEAM_KEY] = team.pk
            return redirect("home")
    return render(request, "accounts/no_team.html", {"form": form})


@login_required
@require_POST
def switch_team(request):
    # A team id that is not a database id (text, "²", 10**30) is simply no team of yours.
    team_id = parse_id(request.POST.get("team"))
    membership = memberships_of(request.user).filter(team_id=team_id).first() if team_id else None
    if membership is None:
        raise Http404("No such team.")
    request.session[SESSION_TEAM_KEY] = membership.team_id
    messages.info(request, f"Now working in {membership.team.name}.")
    return redirect(safe_next_url(request, request.POST.get("next")))


# What each role may do, shown on the team page (each role can also do what the ones above it can).
ROLE_RIGHTS = [
    (Role.VIEWER, "Sees the fleet, apps, prices, world state, jobs and the audit log; links their "
                  "own ZelIDs. Changes nothing for the team."),
    (Role.OPERATOR, "Also runs sweeps, app syncs and jobs, claims nodes for maintenance, prepares "
                    "and signs node logins, publishes and deletes world-state entities."),
    (Role.MANAGER, "Also registers and removes nodes, edits groups, schedules and alert rules, "
                   "manages apps and engines, invites members and changes their roles."),
]


def invitation_link(request, invitation: Invitation) -> str:
    """The link to share; "" when its token cannot be opened any more (the panel's key changed)."""
    token = invitation.token
    return request.build_absolute_uri(reverse("accounts:invitation", args=[token])) if token else ""


@team_view()
def team(request):
    members = Membership.objects.filter(team=request.team).select_related("user")
    is_manager = request.membership.can(Role.MANAGER)
    invitations = []
    if is_manager:  # an open invitation's link is a key to the team: managers only
        invitations = [i for i in Invitation.objects.filter(team=request.team)[:20] if i.is_open]
        for row in invitations:
            row.link = invitation_link(request, row)
    return render(
        request,
        "accounts/team.html",
        {
            "members": members,
            "invitations": invitations,
            "invitation_form": InvitationForm(),
            "team_form": TeamForm(),
            "roles": Role.choices,
            "role_rights": ROLE_RIGHTS,
            "is_manager": is_manager,
        },
    )


@team_view(Role.MANAGER)
@require_POST
def invite(request):
    form = InvitationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role for the invitation.")
        return redirect("accounts:team")
    invitation = actions.create_invitation(membership=request.membership, role=form.cleaned_data["role"])
    link = invitation_link(request, invitation)
    messages.success(request, f"Invitation link (valid 7 days, one use; it stays on this page until "
                              f"used or revoked): {link}")
    return redirect("accounts:team")


@team_view(Role.MANAGER)
@require_POST
def revoke_invitation(request, pk):
    invitation = team_object_or_404(Invitation, request.team, pk=pk)
    actions.revoke_invitation(membership=request.membership, invitation=invitation)
    messages.success(request, "Invitation revoked.")
    return redirect("accounts:team")


@team_view(Role.MANAGER)
@require_POST
def change_role(request, pk):
    member = team_object_or_404(Membership.objects.select_related("user", "team"), request.team, pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles: viewer, operator or manager.")
        return redirect("accounts:team")
    try:
        member = actions.change_role(actor_membership=request.membership, member=member,
                                     role=form.cleaned_data["role"])
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"{member.user.username} is now a {member.role}.")
    return redirect("accounts:team")


@team_view(Role.MANAGER)
@require_POST
def remove_member(request, pk):
    member = team_object_or_404(Membership.objects.select_related("user", "team"), request.team, pk=pk)
    try:
        actions.remove_member(actor_membership=request.membership, member=member)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"{member.user.username} was removed from the team.")
    return redirect("accounts:team")


@login_required
@require_POST
def create_team(request):
    form = TeamForm(request.POST)
    if form.is_valid():
        try:
            new_team = actions.create_team(actor=request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            request.session[SESSION_TEAM_KEY] = new_team.pk
            messages.success(request, f"Team {new_team.name} created; you are its manager.")
    else:
        messages.error(request, "A team needs a name (up to 80 characters).")
    return redirect("accounts:team")


def invitation(request, token):
    """Open an invitation: a signed-in user joins; a new visitor creates an account and joins."""
    invite_row = get_object_or_404(Invitation.objects.select_related("team"),
                                   token_digest=invitation_token_digest(token))
    form = None if request.user.is_authenticated else NewAccountForm(request.POST or None)
    if request.method == "POST" and invite_row.is_open:
        if form is not None and not form.is_valid():
            return render(request, "accounts/invitation.html", {"invitation": invite_row, "form": form})
        try:
            if form is not None:
                membership = actions.accept_invitation_as_new_user(
                    token=token, username=form.cleaned_data["username"],
                    password=form.cleaned_data["password"],
                )
                login(request, membership.user, backend=PASSWORD_BACKEND)
            else:
                membership = actions.accept_invitation(user=request.user, token=token)
        except ValidationError as error:
            messages.error(request, error.messages[0])
            return redirect("home")
        request.session[SESSION_TEAM_KEY] = membership.team_id
        messages.success(request, f"You joined {membership.team.name} as {membership.role}.")
        return redirect("home")
    return render(request, "accounts/invitation.html", {"invitation": invite_row, "form": form})


@team_view()
def audit_log(request):
    form = AuditFilterForm(request.GET or None)
    entries = AuditEntry.objects.filter(team=request.team)
    if form.is_valid():
        data = form.cleaned_data
        if data["action"]:
            entries = entries.filter(action__icontains=data["action"])
        if data["actor"]:
            entries = entries.filter(actor_name__icontains=data["actor"])
        if data["outcome"]:
            entries = entries.filter(outcome=data["outcome"])
        if data["since"]:
            entries = entries.filter(created_at__date__gte=data["since"])
    page = audit_page(entries, request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "accounts/audit.html", {"form": form, "page": page, "query": query.urlencode()}
    )
