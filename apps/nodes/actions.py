"""Every write of the nodes app, each with its audit row."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts import audit
from apps.accounts.access import require_role
from apps.accounts.audit import AuditEvent, Outcome
from apps.accounts.models import Membership, Role
from apps.nodes.addresses import normalise_address, split_line
from apps.nodes.clients import node_client
from apps.nodes.models import (
    AlertRule,
    MaintenanceClaim,
    MetricsToken,
    Node,
    NodeGroup,
    NodeSnapshot,
    SweepSettings,
    hash_token,
)

MAX_IMPORT = 10_000
NAME_MAX = Node._meta.get_field("name").max_length


@dataclass
class LineError:
    line_number: int
    text: str
    message: str


class ImportRefused(ValidationError):
    """A pasted list had bad lines: nothing was imported; `errors` says which and why."""

    def __init__(self, errors: list[LineError]):
        super().__init__(f"{len(errors)} line(s) could not be imported; nothing was imported.")
        self.errors = errors


def register_nodes(*, membership: Membership, text: str, group: NodeGroup | None = None,
                   provider: str = "", source: str = "list") -> list[Node]:
    """Register every node of a pasted list, or none of them (per-line errors otherwise)."""
    require_role(membership, Role.MANAGER)
    team = membership.team
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise ImportRefused([LineError(1, "", "Enter at least one node address.")])
    if len(lines) > MAX_IMPORT:
        raise ImportRefused([LineError(MAX_IMPORT + 1, "", f"At most {MAX_IMPORT} nodes at once.")])
    existing_addresses = set(Node.objects.filter(team=team).values_list("address", flat=True))
    existing_names = set(Node.objects.filter(team=team).values_list("name", flat=True))
    errors, rows, seen = [], [], {}
    for number, line in lines:
        address_text, name = split_line(line)
        try:
            address, base_url = normalise_address(address_text)
        except ValueError as exc:
            errors.append(LineError(number, line, str(exc)))
            continue
        # Compared as stored: two long names that share their first NAME_MAX characters collide.
        name = (name or address)[:NAME_MAX]
        if address in existing_addresses:
            errors.append(LineError(number, line, f"{address} is already registered in this team."))
        elif address in seen:
            errors.append(LineError(number, line, f"{address} appears twice (also line {seen[address]})."))
        elif name in existing_names or any(r.name == name for r in rows):
            errors.append(LineError(number, line, f"The name “{name}” is already used."))
        else:
            seen[address] = number
            rows.append(Node(team=team, name=name, address=address, base_url=base_url,
                             group=group, provider=provider))
    if errors:
        audit.record(team=team, actor=membership.user, action=AuditEvent.NODE_REGISTER,
                     outcome=Outcome.FAILURE, lines=len(lines), bad_lines=[e.line_number for e in errors][:50])
        raise ImportRefused(errors)
    with transaction.atomic():
        created = Node.objects.bulk_create(rows, batch_size=500)
        # A snapshot row from the start ("not swept yet"): the fleet table joins it for every node.
        NodeSnapshot.objects.bulk_create(
            [NodeSnapshot(node=node, team=team) for node in created], batch_size=500
        )
        audit.record(team=team, actor=membership.user, action=AuditEvent.NODE_REGISTER, target=None,
                     count=len(created), source=source,
                     addresses=[n.address for n in created][:20])
        ensure_sweep_schedule(team)
    return created


def owner_node_addresses(source: Node, owner_address: str) -> list[str]:
    """Addresses of the network's nodes whose collateral/payment address matches, asked from a
    node the team registered (the panel never calls an address nobody registered). The source is
    an untrusted peer: entries of the wrong shape are skipped, and at most MAX_IMPORT are kept."""

    entries = node_client(source.base_url).list_flux_nodes(owner_address)
    addresses = set()
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        ip = entry.get("ip")
        if isinstance(ip, str) and ip and owner_address in (
                entry.get("payment_address"), entry.get("collateral_address"), entry.get("zelid")):
            addresses.add(ip[:300])
        if len(addresses) >= MAX_IMPORT:
            break
    return sorted(addresses)


def update_node(*, membership: Membership, node: Node, **fields) -> Node:
    """Change a node's labels. A name another node of the team has is a ValidationError on
    `name` (the form shows it), never the database's UNIQUE-constraint text."""
    require_role(membership, Role.MANAGER)
    allowed = {"name", "group", "provider", "monthly_cost", "notes"}
    name = fields.get("name")
    if name is not None and Node.objects.filter(team=membership.team, name=name).exclude(pk=node.pk).exists():
        raise ValidationError({"name": f"Another node of this team is already called “{name}”."})
    group = fields.get("group")
    if group is not None and group.team_id != membership.team.pk:
        raise ValidationError({"group": "No such group in this team."})
    with transaction.atomic():
        changed = {}
        for key, value in fields.items():
            if key in allowed and getattr(node, key) != value:
                changed[key] = str(value)
                setattr(node, key, value)
        node.save()
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.NODE_UPDATE,
                     target=node, **changed)
    return node


def delete_node(*, membership: Membership, node: Node) -> None:
    require_role(membership, Role.MANAGER)
    with transaction.atomic():
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.NODE_DELETE, target=node,
                     address=node.address)
        node.delete()


def create_group(*, membership: Membership, name: str) -> NodeGroup:
    require_role(membership, Role.MANAGER)
    with transaction.atomic():
        if NodeGroup.objects.filter(team=membership.team, name__iexact=name).exists():
            raise ValidationError(f"A group named “{name}” already exists.")
        group = NodeGroup.objects.create(team=membership.team, name=name)
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.GROUP_CREATE, target=group)
    return group


def ensure_sweep_schedule(team, interval_seconds: int | None = None) -> SweepSettings:
    """Keep the team's beat entry (django-celery-beat) in step with its sweep interval."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    settings_row, _ = SweepSettings.objects.get_or_create(team=team)
    if interval_seconds is not None:
        settings_row.interval_seconds = interval_seconds
    schedule, _ = IntervalSchedule.objects.get_or_create(
        every=settings_row.interval_seconds, period=IntervalSchedule.SECONDS
    )
    task, _ = PeriodicTask.objects.update_or_create(
        name=f"sweep team {team.pk}",
        defaults={"task": "nodes.sweep_team", "interval": schedule, "args": json.dumps([team.pk]),
                  "enabled": True},
    )
    settings_row.periodic_task = task
    settings_row.save()
    return settings_row


def set_sweep_interval(*, membership: Membership, seconds: int) -> SweepSettings:
    require_role(membership, Role.MANAGER)
    if not 15 <= seconds <= 86_400:
        raise ValidationError("The sweep interval must be between 15 seconds and one day.")
    with transaction.atomic():
        row = ensure_sweep_schedule(membership.team, seconds)
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.SWEEP_INTERVAL,
                     target=row, seconds=seconds)
    return row


def create_alert_rule(*, membership: Membership, kind: str, threshold=None, email="", webhook_url="") -> AlertRule:
    require_role(membership, Role.MANAGER)
    from apps.nodes.alerts import webhook_problem

    if kind not in AlertRule.Kind.values:
        raise ValidationError("Unknown kind of alert rule.")
    if threshold is not None and not 0 <= threshold <= AlertRule.MAX_THRESHOLD:
        raise ValidationError(f"The threshold must be between 0 and {AlertRule.MAX_THRESHOLD:,}.")
    if not email and not webhook_url:
        raise ValidationError("Give an email address or a webhook URL to deliver the alert to.")
    if webhook_url:
        problem = webhook_problem(webhook_url)
        if problem:
            raise ValidationError(f"Webhook refused: {problem}.")
    with transaction.atomic():
        rule = AlertRule.objects.create(team=membership.team, kind=kind, threshold=threshold,
                                        email=email, webhook_url=webhook_url)
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.ALERT_RULE_CREATE,
                     target=rule, kind=kind)
    return rule


def delete_alert_rule(*, membership: Membership, rule: AlertRule) -> None:
    require_role(membership, Role.MANAGER)
    with transaction.atomic():
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.ALERT_RULE_DELETE, target=rule)
        rule.delete()


def claim_node(*, membership: Membership, node: Node, minutes: int, note: str = "") -> MaintenanceClaim:
    require_role(membership, Role.OPERATOR)
    if not 1 <= minutes <= MaintenanceClaim.MAX_MINUTES:
        raise ValidationError("A maintenance claim lasts from 1 minute to 7 days.")
    now = timezone.now()
    with transaction.atomic():
        holder = MaintenanceClaim.active(now).filter(node=node).first()
        if holder and holder.user_id != membership.user_id:
            raise ValidationError(f"{holder.user} holds this node until {holder.until:%H:%M} UTC.")
        if holder:
            holder.released_at = now
            holder.save(update_fields=["released_at"])
        claim = MaintenanceClaim.objects.create(node=node, user=membership.user, note=note,
                                                until=now + timedelta(minutes=minutes))
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.NODE_CLAIM, target=node,
                     minutes=minutes)
    return claim


def release_claim(*, membership: Membership, node: Node) -> int:
    """End the node's maintenance claim. Only the member who holds it, or a manager, may: an
    operator cannot unmute alerts on a node somebody else is working on."""
    require_role(membership, Role.OPERATOR)
    with transaction.atomic():
        holders = MaintenanceClaim.objects.select_for_update().filter(node=node, released_at__isnull=True)
        now = timezone.now()
        holder = next((c.user for c in holders.select_related("user")
                       if c.user_id != membership.user_id and c.until > now), None)
        refused = holder is not None and not membership.can(Role.MANAGER)
        if not refused:
            released = holders.update(released_at=now)
            audit.record(team=membership.team, actor=membership.user, action=AuditEvent.NODE_RELEASE,
                         target=node, released=released)
    if refused:  # recorded outside the transaction, which a refusal would roll back
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.NODE_RELEASE,
                     target=node, outcome=Outcome.DENIED, holder=str(holder))
        raise PermissionDenied(f"{holder} holds this node; only they or a manager can release it.")
    return released


def sweep_now(*, membership: Membership) -> None:
    """Queue a sweep of the team's fleet now (after the audit row is committed)."""
    from apps.nodes.tasks import sweep_team_task

    require_role(membership, Role.OPERATOR)
    team_id = membership.team.pk
    with transaction.atomic():
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.SWEEP_NOW)
        transaction.on_commit(lambda: sweep_team_task.delay(team_id))


def rotate_metrics_token(*, membership: Membership) -> str:
    """A new /metrics token for the team; returned once, only its hash is kept."""
    require_role(membership, Role.MANAGER)
    token = MetricsToken.new_token()
    with transaction.atomic():
        MetricsToken.objects.update_or_create(team=membership.team, defaults={"token_hash": hash_token(token)})
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.METRICS_TOKEN)
    return token
