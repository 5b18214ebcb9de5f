"""Every write of the builder: drafts created, saved, abandoned, and their status moves, each with
its audit row in the same transaction (enqueueing happens on commit).

Saving is what the builder page does as the user types, so consecutive saves of one draft by one
user within `SAVE_COALESCE` are one audit row whose detail counts the revisions, not one row per
keystroke pause.
"""
from __future__ import annotations

import copy
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from apps.accounts import audit
from apps.accounts.access import require_role_audited
from apps.accounts.audit import AuditEvent
from apps.accounts.models import AuditEntry, Membership, Role
from apps.builder.models import AppDraft, DraftEvent
from apps.deployments.models import TeamApp

SAVE_COALESCE = timedelta(minutes=15)
NAME_MAX = AppDraft._meta.get_field("name").max_length
REASON_MAX = AppDraft._meta.get_field("reason").max_length


class StaleDraft(Exception):
    """The draft changed since the editor loaded it (another tab or another member)."""


class DraftLocked(Exception):
    """The draft is past the point where its spec may change (signed, submitted or live)."""


def require(membership: Membership, role: str, what: str) -> None:
    require_role_audited(membership, role, f"builder.actions.{what}")


def _name_of(spec) -> str:
    name = spec.get("name") if isinstance(spec, dict) else None
    return name[:NAME_MAX] if isinstance(name, str) else ""


def event(draft: AppDraft, actor, text: str) -> DraftEvent:
    return DraftEvent.objects.create(draft=draft, actor=actor if getattr(actor, "pk", None) else None,
                                     status=draft.status, text=text[:500])


def create_draft(*, membership: Membership, spec: dict, kind: str = AppDraft.Kind.NEW,
                 app: TeamApp | None = None, origin: str = "new") -> AppDraft:
    """A new draft. `app` (one of the team's apps) for an update, renewal or cancellation: its live
    spec is kept as the diff's left side. `origin` says where the spec came from, for the log."""
    require(membership, Role.OPERATOR, "create_draft")
    if app is not None and app.team_id != membership.team_id:
        raise PermissionDenied("That app is not one of this team's.")
    if kind != AppDraft.Kind.NEW and app is None:
        raise ValueError("an update, renewal or cancellation needs the live app")
    now = timezone.now()
    with transaction.atomic():
        draft = AppDraft.objects.create(
            team=membership.team, kind=kind, app=app, name=_name_of(spec), spec=copy.deepcopy(spec),
            base_spec=copy.deepcopy(app.spec) if app is not None else None,
            base_height=app.message_height if app is not None else None,
            created_by=membership.user, updated_by=membership.user, created_at=now, updated_at=now)
        event(draft, membership.user, f"Created ({origin})")
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.BUILDER_DRAFT_CREATE,
                     target=draft, kind=kind, origin=origin, app=app.name if app else "")
    return draft


def save_draft(*, membership: Membership, draft: AppDraft, spec: dict, revision: int) -> AppDraft:
    """Store the spec the editor holds. `revision` is the one the editor loaded: if the draft moved
    on since, StaleDraft (nothing is overwritten)."""
    require(membership, Role.OPERATOR, "save_draft")
    now = timezone.now()
    with transaction.atomic():
        current = AppDraft.objects.select_for_update().get(pk=draft.pk, team=membership.team)
        if not current.is_editable:
            raise DraftLocked(f"This draft is {current.get_status_display().lower()}; its spec can no "
                              "longer change. Duplicate it to make another version.")
        if current.revision != revision:
            raise StaleDraft("Someone saved this draft meanwhile (another tab or another member). "
                             "Reload it to see their changes.")
        if current.spec == spec:
            return current
        current.spec = copy.deepcopy(spec)
        current.name = _name_of(spec)
        current.revision += 1
        current.updated_by = membership.user
        current.updated_at = now
        if current.status == AppDraft.Status.FAILED:
            current.status = AppDraft.Status.DRAFT
            current.reason = ""
        current.save(update_fields=["spec", "name", "revision", "updated_by", "updated_at", "status", "reason"])
        _record_save(membership, current, now)
    return current


def _record_save(membership: Membership, draft: AppDraft, now) -> None:
    last = (AuditEntry.objects.filter(team=membership.team, action=AuditEvent.BUILDER_DRAFT_SAVE,
                                      target_type="appdraft", target_id=str(draft.pk), actor=membership.user,
                                      created_at__gte=now - SAVE_COALESCE)
            .order_by("-created_at", "-id").first())
    if last is not None:
        detail = dict(last.detail or {})
        detail["saves"] = int(detail.get("saves", 1)) + 1
        detail["revision"] = draft.revision
        detail["last_at"] = now.isoformat()
        AuditEntry.objects.filter(pk=last.pk).update(detail=detail)
        return
    audit.record(team=membership.team, actor=membership.user, action=AuditEvent.BUILDER_DRAFT_SAVE,
                 target=draft, saves=1, revision=draft.revision)


def set_status(draft: AppDraft, status: str, *, actor=None, reason: str = "", text: str = "",
               **fields) -> AppDraft:
    """Move a draft to `status` (with the reason for failed/abandoned) and log it on the draft.
    The caller's action records the audit row; this is the shared part."""
    draft.status = status
    draft.reason = reason[:REASON_MAX]
    draft.updated_at = timezone.now()
    for name, value in fields.items():
        setattr(draft, name, value)
    draft.save(update_fields=["status", "reason", "updated_at", *fields])
    event(draft, actor, text or (f"{draft.get_status_display()}: {reason}" if reason else draft.get_status_display()))
    return draft


def abandon_draft(*, membership: Membership, draft: AppDraft, reason: str = "") -> AppDraft:
    require(membership, Role.OPERATOR, "abandon_draft")
    with transaction.atomic():
        current = AppDraft.objects.select_for_update().get(pk=draft.pk, team=membership.team)
        if current.status in (AppDraft.Status.LIVE, AppDraft.Status.ABANDONED):
            return current
        set_status(current, AppDraft.Status.ABANDONED, actor=membership.user,
                   reason=reason.strip() or f"Abandoned by {membership.user.username}")
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.BUILDER_DRAFT_ABANDON,
                     target=current, reason=current.reason)
    return current
