"""Warnings before node sessions end, and housekeeping of lapsed wallet rows.

Both run from Celery beat (tasks.py); the pages show the same warning as a banner meanwhile.
"""
from __future__ import annotations

from collections import defaultdict

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from apps.accounts import audit
from apps.accounts.models import Membership
from apps.wallets.models import EXPIRY_WARNING, NodeSession, WalletIdentity
from apps.wallets.sessions import purge_expired
from apps.wallets.signing import expire_overdue
from apps.wallets.zelids import zelid_key


def warn_expiring_sessions(now=None) -> int:
    """Mail each team's key holders (and whoever stored the session) once per session that ends
    within three days. Returns how many sessions were announced."""
    now = now or timezone.now()
    due = list(NodeSession.objects.filter(warned_at__isnull=True, expires_at__gt=now,
                                          expires_at__lte=now + EXPIRY_WARNING)
               .select_related("node", "team", "created_by"))
    by_team = defaultdict(list)
    for session in due:
        by_team[session.team].append(session)
    for team, team_sessions in by_team.items():
        recipients = _recipients(team, team_sessions)
        lines = [f"- {s.node.name}: {s.zelid} ({s.privilege}) ends {s.expires_at:%Y-%m-%d %H:%M} UTC"
                 for s in team_sessions]
        body = ("These node sessions of " + team.name + " end within three days. Renew them all "
                "at once on the panel's Wallet › Node sessions page (Renew all).\n\n" + "\n".join(lines))
        if recipients:
            send_mail(f"[fluxpanel] {len(team_sessions)} node session(s) of {team.name} end soon",
                      body, None, sorted(recipients), fail_silently=True)
        with transaction.atomic():
            NodeSession.objects.filter(pk__in=[s.pk for s in team_sessions]).update(warned_at=now)
            audit.record(team=team, actor=None, action="node_session.warn", target=None,
                         sessions=len(team_sessions), recipients=len(recipients))
    return len(due)


def _recipients(team, team_sessions) -> set[str]:
    keys = {zelid_key(s.zelid) for s in team_sessions}
    member_ids = Membership.objects.filter(team=team).values_list("user_id", flat=True)
    holders = WalletIdentity.objects.filter(zelid_key__in=keys, user_id__in=member_ids)
    emails = {identity.user.email for identity in holders.select_related("user")}
    emails |= {s.created_by.email for s in team_sessions if s.created_by}
    return {email for email in emails if email}


def housekeeping(now=None) -> dict:
    now = now or timezone.now()
    return {"expired_requests": expire_overdue(now), **purge_expired(now)}
