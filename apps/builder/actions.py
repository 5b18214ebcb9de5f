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


class DraftRefused(ValueError):
    """The draft cannot be made or moved; the message says why (shown in the form, nothing is
    written)."""


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
        if current.status == AppDraft.Status.AWAITING_SIGNATURE and current.signing_request_id and (
                current.signing_request.status == current.signing_request.Status.PENDING):
            # A signature given later must not send an abandoned draft to the network.
            raise DraftRefused("This draft waits for a signature: withdraw its signing request first "
                               "(Sign tab), then abandon it.")
        set_status(current, AppDraft.Status.ABANDONED, actor=membership.user,
                   reason=reason.strip() or f"Abandoned by {membership.user.username}")
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.BUILDER_DRAFT_ABANDON,
                     target=current, reason=current.reason)
    return current


# --- drafts from anywhere: import, duplicate, update / renew / cancel of a live app ----------

RENEW_MONTHS = (1, 3, 6, 12)


def import_draft(*, membership: Membership, text: str) -> AppDraft:
    """A new-app draft from pasted JSON of any spec version, upgraded to v8 (apps.builder.importing);
    a paste FluxOS refuses raises DraftRefused with the reason."""
    from apps.builder.diff import team_height
    from apps.builder.importing import ImportRefused, import_spec

    require(membership, Role.OPERATOR, "import_draft")
    try:
        spec, version = import_spec(text, team_height(membership.team))
    except ImportRefused as exc:
        raise DraftRefused(str(exc)) from None
    return create_draft(membership=membership, spec=spec, origin=f"import of a v{version} spec")


def _live_v8(app: TeamApp, height: int) -> dict:
    from apps.builder.importing import ImportRefused, upgrade_to_v8

    if not isinstance(app.spec, dict) or not app.spec:
        raise DraftRefused(f"The panel has no spec of {app.name} yet: sync the apps first.")
    try:
        return upgrade_to_v8(copy.deepcopy(app.spec), app.message_height or height)
    except ImportRefused as exc:
        raise DraftRefused(str(exc)) from None


def duplicate_app(*, membership: Membership, app: TeamApp, name: str) -> AppDraft:
    """A new-app draft with the spec of one of the team's apps under a new name (owner kept)."""
    from apps.builder.diff import team_height

    require(membership, Role.OPERATOR, "duplicate_app")
    if app.team_id != membership.team_id:
        raise PermissionDenied("That app is not one of this team's.")
    name = (name or "").strip()
    if not name:
        raise DraftRefused("A duplicate needs a new name.")
    if len(name) > NAME_MAX:
        raise DraftRefused(f"An app name has at most {NAME_MAX} characters.")
    if name.lower() == app.name.lower() or TeamApp.objects.filter(team=membership.team, name_key=name.lower()).exists():
        raise DraftRefused(f"The team already has an app named {name}: pick another name.")
    spec = _live_v8(app, team_height(membership.team, app))
    spec["name"] = name
    return create_draft(membership=membership, spec=spec, origin=f"duplicate of {app.name}")


def draft_from_app(*, membership: Membership, app: TeamApp, kind: str, months: int = 1) -> AppDraft:
    """An update of a live app (base = its live spec and height); a renewal (only `expire`: the
    blocks left plus `months`) or a cancellation (`expire` = FluxOS's minimum), both counted
    from the update's height (apps.builder.diff)."""
    from apps.builder.diff import blocks_left, minimum_expire, renew_expire, team_height

    require(membership, Role.OPERATOR, f"draft_from_app.{kind}")
    if app.team_id != membership.team_id:
        raise PermissionDenied("That app is not one of this team's.")
    if kind not in (AppDraft.Kind.UPDATE, AppDraft.Kind.RENEW, AppDraft.Kind.CANCEL):
        raise DraftRefused("Unknown kind of draft.")
    height = team_height(membership.team, app)
    spec = _live_v8(app, height)
    if kind == AppDraft.Kind.RENEW:
        if months not in RENEW_MONTHS:
            raise DraftRefused(f"Renew for {', '.join(map(str, RENEW_MONTHS))} months.")
        if app.expiry_height is None or app.expires_at is None:
            # Without the blocks left, a renewal could shorten the subscription it means to extend.
            raise DraftRefused(f"The panel does not know when {app.name} expires yet: sync the apps first.")
        spec["expire"] = renew_expire(blocks_left(app, height), months, height)
        origin = f"renewal of {app.name} for {months} month{'s' if months != 1 else ''}"
    elif kind == AppDraft.Kind.CANCEL:
        spec["expire"] = minimum_expire(height)
        origin = f"cancellation of {app.name}"
    else:
        origin = f"update of {app.name}"
    return create_draft(membership=membership, spec=spec, kind=kind, app=app, origin=origin)
