"""Every write of the deployments app (owners, sources, apps added or dropped, sync now), each with
its audit row in the same transaction; enqueueing happens on commit."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts import audit
from apps.accounts.access import require_role_audited
from apps.accounts.audit import AuditEvent
from apps.accounts.models import Membership, Role
from apps.deployments.models import AppStatus, AppSyncSettings, TeamApp, WatchedOwner
from apps.deployments.owners import owner_key
from apps.nodes.models import Node
from apps.wallets.secrets_guard import find_secret, refusal_message
from fluxpanel.fluxos.crypto import base58check_decode
from fluxpanel.fluxos.specs.restriction_checks import APP_NAME_V8
from fluxpanel.netguard import OutboundRefused, check_url

SYNC_TASK = "deployments.sync_team"
NOT_A_ZELID = "That is not a ZelID (a Bitcoin-style 1…/3… or an 0x… address)."
GATEWAY_MAX = AppSyncSettings._meta.get_field("gateway_url").max_length
LABEL_MAX = WatchedOwner._meta.get_field("label").max_length
APP_NAME_MAX = TeamApp._meta.get_field("name").max_length
INTERVAL_MIN, INTERVAL_MAX = 60, 86_400
_EVM = re.compile(r"0x[0-9a-fA-F]{40}")
_BASE58 = re.compile(r"[13][1-9A-HJ-NP-Za-km-z]{24,33}")


def _require(membership: Membership, role: str, what: str) -> None:
    require_role_audited(membership, role, f"deployments.actions.{what}")


def is_owner_address(text: str) -> bool:
    """A Bitcoin P2PKH (1…) or P2SH (3…) address with a valid checksum, or 0x + 40 hex."""
    if _EVM.fullmatch(text):
        return True
    if not _BASE58.fullmatch(text):
        return False
    payload = base58check_decode(text)
    return payload is not None and len(payload) == 21 and payload[0] in (0x00, 0x05)


def clean_owner_address(address: str) -> str:
    address = (address or "").strip()
    kind = find_secret(address, "address", hex_field=True)
    if kind:
        raise ValidationError(refusal_message(kind), code="secret")
    if not is_owner_address(address):
        raise ValidationError(NOT_A_ZELID, code="zelid")
    return address


def _enqueue_sync(team_id: int) -> None:
    """Queue `deployments.sync_team` once the transaction commits (as the fleet's sweep_now does)."""
    from apps.deployments.tasks import sync_team_task

    transaction.on_commit(lambda: sync_team_task.delay(team_id))


def add_watched_owner(*, membership: Membership, address: str, label: str = "") -> WatchedOwner:
    _require(membership, Role.MANAGER, "add_watched_owner")
    address = clean_owner_address(address)
    label = (label or "").strip()
    kind = find_secret(label, "label")
    if kind:
        raise ValidationError(refusal_message(kind), code="secret")
    if len(label) > LABEL_MAX:
        raise ValidationError(f"A label has at most {LABEL_MAX} characters.")
    team = membership.team
    key = owner_key(address)
    existing = [a for a in WatchedOwner.objects.filter(team=team).values_list("address", flat=True)
                if owner_key(a) == key]
    if existing:
        raise ValidationError(f"{address} is already watched by this team.", code="duplicate")
    with transaction.atomic():
        owner = WatchedOwner.objects.create(team=team, address=address, label=label, added_by=membership.user)
        audit.record(team=team, actor=membership.user, action=AuditEvent.DEPLOYMENTS_OWNER_ADD,
                     target=owner, address=address)
        _enqueue_sync(team.pk)
    return owner


def remove_watched_owner(*, membership: Membership, owner: WatchedOwner) -> None:
    _require(membership, Role.MANAGER, "remove_watched_owner")
    if owner.team_id != membership.team.pk:
        raise PermissionDenied("Not an owner of this team.")
    with transaction.atomic():
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.DEPLOYMENTS_OWNER_REMOVE,
                     target=owner, address=owner.address)
        owner.delete()
        _enqueue_sync(membership.team.pk)


def clean_gateway_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    if len(url) > GATEWAY_MAX:
        raise ValidationError(f"A gateway URL has at most {GATEWAY_MAX} characters.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("A gateway URL starts with http:// or https:// and names a host.")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ValidationError("A gateway URL is only scheme, host and port (no path, query or login).")
    if not settings.ALLOW_ANY_NODE_URL:
        try:
            check_url(url)
        except OutboundRefused as exc:
            raise ValidationError(f"The panel may not call that gateway: {exc}") from exc
    return url.rstrip("/")


def set_sources(*, membership: Membership, source_node: Node | None, gateway_url: str,
                interval_seconds: int) -> AppSyncSettings:
    _require(membership, Role.MANAGER, "set_sources")
    team = membership.team
    if source_node is not None and source_node.team_id != team.pk:
        raise ValidationError("No such node in this team.")
    gateway_url = clean_gateway_url(gateway_url)
    if not isinstance(interval_seconds, int) or not INTERVAL_MIN <= interval_seconds <= INTERVAL_MAX:
        raise ValidationError(f"The sync interval must be between {INTERVAL_MIN} s and one day.")
    with transaction.atomic():
        config, _ = AppSyncSettings.objects.update_or_create(team=team, defaults={
            "source_node": source_node, "gateway_url": gateway_url,
            "interval_seconds": interval_seconds, "updated_at": timezone.now()})
        audit.record(team=team, actor=membership.user, action=AuditEvent.DEPLOYMENTS_SOURCES_SET,
                     source_node=source_node.pk if source_node else None, gateway_url=gateway_url,
                     interval_seconds=interval_seconds)
    return config


def clean_app_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > APP_NAME_MAX or not APP_NAME_V8.fullmatch(name):
        raise ValidationError(
            f"An app name is 1–{APP_NAME_MAX} letters, digits and hyphens, not starting or ending with a hyphen.")
    return name


def add_app(*, membership: Membership, name: str) -> TeamApp:
    """Add an app by name (status unknown until the next sync checks the network), or un-drop it."""
    _require(membership, Role.MANAGER, "add_app")
    name = clean_app_name(name)
    team = membership.team
    with transaction.atomic():
        app = TeamApp.objects.select_for_update().filter(team=team, name_key=name.lower()).first()
        if app is not None and not app.dropped:
            raise ValidationError(f"{app.name} is already one of this team's apps.", code="duplicate")
        if app is not None:
            app.dropped = False
            app.save(update_fields=["dropped"])
        else:
            app = TeamApp.objects.create(team=team, name=name, origin=TeamApp.Origin.ADDED,
                                         status=AppStatus.UNKNOWN, added_by=membership.user)
        audit.record(team=team, actor=membership.user, action=AuditEvent.DEPLOYMENTS_APP_ADD,
                     target=app, name=app.name)
        _enqueue_sync(team.pk)
    return app


def _set_dropped(membership: Membership, app: TeamApp, dropped: bool, event, what: str) -> TeamApp:
    _require(membership, Role.MANAGER, what)
    if app.team_id != membership.team.pk:
        raise PermissionDenied("Not an app of this team.")
    with transaction.atomic():
        app.dropped = dropped
        app.save(update_fields=["dropped"])
        audit.record(team=membership.team, actor=membership.user, action=event, target=app, name=app.name)
        if not dropped:
            _enqueue_sync(membership.team.pk)
    return app


def drop_app(*, membership: Membership, app: TeamApp) -> TeamApp:
    return _set_dropped(membership, app, True, AuditEvent.DEPLOYMENTS_APP_DROP, "drop_app")


def restore_app(*, membership: Membership, app: TeamApp) -> TeamApp:
    return _set_dropped(membership, app, False, AuditEvent.DEPLOYMENTS_APP_RESTORE, "restore_app")


def sync_now(*, membership: Membership) -> None:
    """Queue an app sync of the team now (after the audit row is committed)."""
    _require(membership, Role.OPERATOR, "sync_now")
    with transaction.atomic():
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.DEPLOYMENTS_SYNC_NOW)
        _enqueue_sync(membership.team.pk)
