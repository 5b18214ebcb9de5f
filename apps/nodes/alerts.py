"""Alert rules: evaluated after every sweep; a notice goes out only when a rule flips for a node.

A rule that starts holding for a node records one "firing" notice; when it stops holding, one
"resolved" notice. While it keeps holding nothing is recorded, so a flapping fleet does not storm.
Notices for a node under a maintenance claim are recorded as muted and never sent.

Sending is an outbox (healthchecks' sendalerts): the sweep only records AlertDelivery rows; a
sender (`send_pending_alerts`, run after each sweep and by beat) claims each pending row with a
conditional UPDATE, sends it, and marks it sent. A sender that dies between claim and send leaves a
claim that turns reclaimable after RECLAIM_AFTER, so no notice is lost and none is sent twice by
two live senders.
"""
from __future__ import annotations

import json
import logging
from datetime import timedelta

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.nodes.models import (
    AlertDelivery,
    AlertRule,
    AlertState,
    MaintenanceClaim,
    NodeSnapshot,
    NodeState,
    blocks_to_minutes,
)
from apps.nodes.probe import version_key
from fluxpanel.fluxos.client.reasons import shorten
from fluxpanel.netguard import OutboundRefused, check_url, guarded_session

log = logging.getLogger(__name__)
WEBHOOK_TIMEOUT = (3.05, 10)
# Longer than any one send can take (email + webhook deadline), so a live sender is never robbed.
RECLAIM_AFTER = timedelta(minutes=5)
SEND_BATCH = 200
# App rules, never evaluated against node snapshots: evaluated after each app sync by
# apps.deployments.alerts, or (backup_failed) raised by the backups app itself.
APP_KINDS = (AlertRule.Kind.APP_EXPIRES, AlertRule.Kind.APP_INSTANCES_LOW, AlertRule.Kind.APP_DOWN,
             AlertRule.Kind.BACKUP_FAILED)
SNAPSHOT_COLUMNS = ("node_id", "node__name", "node__address", "state", "reason", "reason_detail", "height_lag",
                    "maintenance_blocks", "benchmark_status", "version")


def rule_holds(rule: AlertRule, snap: dict, newest_version: tuple) -> bool:
    kind, threshold = rule.kind, rule.threshold
    if snap["state"] == NodeState.UNKNOWN:
        return False
    if kind == AlertRule.Kind.NODE_DOWN:
        return NodeState.failed(snap["state"])
    if not NodeState.answered(snap["state"]):
        return False  # the other rules need an answer to judge
    if kind == AlertRule.Kind.NOT_CONFIRMED:
        return snap["state"] in (NodeState.UNCONFIRMED, NodeState.DOS)
    if kind == AlertRule.Kind.BENCHMARK_FAILED:
        return snap["benchmark_status"].lower() in ("failed", "error", "toaster")
    if kind == AlertRule.Kind.HEIGHT_BEHIND:
        return snap["height_lag"] is not None and snap["height_lag"] >= (threshold or 5)
    if kind == AlertRule.Kind.MAINTENANCE_LOW:
        minutes = blocks_to_minutes(snap["maintenance_blocks"])
        return minutes is not None and minutes < (threshold or 30)
    if kind == AlertRule.Kind.VERSION_BEHIND:
        return bool(snap["version"]) and version_key(snap["version"]) < newest_version
    return False


def describe(rule: AlertRule, snap: dict, firing: bool) -> str:
    name = f"{snap['node__name']} ({snap['node__address']})"
    if not firing:
        return shorten(f"Resolved: {rule.get_kind_display()} on {name}", 500)
    facts = {
        AlertRule.Kind.NODE_DOWN: snap["reason"],
        AlertRule.Kind.NOT_CONFIRMED: snap["reason"],
        AlertRule.Kind.BENCHMARK_FAILED: f"benchmark {snap['benchmark_status']}",
        AlertRule.Kind.HEIGHT_BEHIND: f"{snap['height_lag']} blocks behind",
        AlertRule.Kind.MAINTENANCE_LOW: f"{snap['maintenance_blocks']} blocks left",
        AlertRule.Kind.VERSION_BEHIND: f"FluxOS {snap['version']}",
    }
    return shorten(f"{rule.get_kind_display()} on {name}: {facts.get(rule.kind, '')}", 500)


def evaluate_alerts(team_id: int) -> list[AlertDelivery]:
    """Compare every enabled rule with every node's snapshot; record a delivery for each flip.
    Nothing is sent here: send_pending_alerts does that."""
    rules = list(AlertRule.objects.filter(team_id=team_id, enabled=True).exclude(kind__in=APP_KINDS))
    if not rules:
        return []
    snapshots = list(NodeSnapshot.objects.filter(team_id=team_id).values(*SNAPSHOT_COLUMNS))
    versions = [version_key(s["version"]) for s in snapshots if s["version"]]
    newest = max(versions) if versions else ()
    firing = {(a.rule_id, a.node_id): a for a in AlertState.objects.filter(rule__team_id=team_id)}
    claimed = set(
        MaintenanceClaim.active().filter(node__team_id=team_id).values_list("node_id", flat=True)
    )
    deliveries = []
    now = timezone.now()
    with transaction.atomic():
        for rule in rules:
            for snap in snapshots:
                key = (rule.pk, snap["node_id"])
                holds = rule_holds(rule, snap, newest)
                was = key in firing
                if holds == was:
                    continue
                if holds:
                    AlertState.objects.create(rule=rule, node_id=snap["node_id"], firing=True, since=now)
                else:
                    firing[key].delete()
                deliveries.append(AlertDelivery(
                    team_id=team_id, rule=rule, node_id=snap["node_id"],
                    kind=AlertDelivery.Kind.FIRING if holds else AlertDelivery.Kind.RESOLVED,
                    message=describe(rule, snap, holds), muted=snap["node_id"] in claimed,
                    detail=snap["reason_detail"][:500] if holds and rule.kind == AlertRule.Kind.NODE_DOWN else "",
                    created_at=now,
                ))
        AlertDelivery.objects.bulk_create(deliveries)
    return deliveries


def pending_deliveries(now=None):
    """Deliveries to send: not sent, not muted, and not claimed by a sender that is still alive."""
    now = now or timezone.now()
    return AlertDelivery.objects.filter(sent_at__isnull=True, muted=False).filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - RECLAIM_AFTER))


def claim_delivery(pk: int, seen_claimed_at, now) -> bool:
    """Take one delivery for this sender: a conditional UPDATE on the claim we saw (none, or a
    stale one), so of two senders racing for the same row exactly one gets it."""
    return AlertDelivery.objects.filter(
        pk=pk, sent_at__isnull=True, claimed_at=seen_claimed_at,
    ).update(claimed_at=now) == 1


def send_pending_alerts(*, limit: int = SEND_BATCH) -> int:
    """Send what the outbox holds (oldest first); returns how many this call sent."""
    now = timezone.now()
    candidates = list(pending_deliveries(now).order_by("created_at", "id").values_list("pk", "claimed_at")[:limit])
    sent = 0
    for pk, seen_claimed_at in candidates:
        if not claim_delivery(pk, seen_claimed_at, now):
            continue  # another sender has it
        delivery = AlertDelivery.objects.select_related("rule", "node", "app").get(pk=pk)
        channels = deliver(delivery)
        AlertDelivery.objects.filter(pk=pk, claimed_at=now).update(sent_at=timezone.now(), channels=channels)
        sent += 1
    return sent


def deliver(delivery: AlertDelivery) -> dict:
    """Send one notice on each of its rule's channels; returns what happened per channel."""
    rule = delivery.rule
    channels = {}
    if rule.email:
        recipients = [a.strip() for a in rule.email.split(",") if a.strip()]
        try:
            send_mail(mail_subject(delivery), mail_body(delivery), None, recipients)
            channels["email"] = "sent"
        except Exception as exc:  # a mail server's failure is recorded on the delivery
            log.warning("alert %s: email failed: %s", delivery.pk, exc)
            channels["email"] = f"failed: {exc}"[:200]
    if rule.webhook_url:
        if delivery.node_id is None and delivery.app_id is not None:
            payload = {"kind": delivery.kind, "rule": rule.kind, "app": delivery.app.name,
                       "owner": delivery.app.owner, "message": delivery.message,
                       "at": delivery.created_at.isoformat()}
        else:
            payload = {"kind": delivery.kind, "rule": rule.kind, "node": delivery.node.name,
                       "address": delivery.node.address, "message": delivery.message,
                       "detail": delivery.detail,
                       "at": delivery.created_at.isoformat()}
        channels["webhook"] = post_webhook(rule.webhook_url, payload)
    return channels


def mail_subject(delivery: AlertDelivery) -> str:
    """One line (a subject may not wrap), cut at a word."""
    return shorten(f"[fluxpanel] {delivery.message}", 200)


def mail_body(delivery: AlertDelivery) -> str:
    body = delivery.message
    if delivery.detail:
        body += f"\n\nTechnical detail: {delivery.detail}"
    return body + "\n"


def post_webhook(url: str, payload: dict) -> str:
    """POST the notice to the rule's webhook: the address checked and pinned at connection time
    (netguard), no redirects, and only the status line and headers read: the receiver's body is
    of no use, and reading it would let a trickling receiver hold the sender."""
    allow_private = bool(settings.ALLOW_PRIVATE_WEBHOOKS)
    session = guarded_session(allow_private=allow_private, pool_connections=1, pool_maxsize=1)
    try:
        response = session.post(
            url, data=json.dumps(payload), headers={"Content-Type": "application/json"},
            timeout=WEBHOOK_TIMEOUT, allow_redirects=False, stream=True,
        )
        response.close()  # the body is never read
    except OutboundRefused as exc:
        return f"refused: {exc}"[:200]
    except requests.TooManyRedirects:
        # guarded_session has max_redirects=0, so requests raises for any 3xx answer even with
        # allow_redirects=False (it prepares the next hop anyway).
        return "failed: HTTP redirect (redirects are not followed)"
    except requests.RequestException as exc:
        return f"failed: {type(exc).__name__}"
    finally:
        session.close()
    if 300 <= response.status_code < 400:
        return "failed: HTTP redirect (redirects are not followed)"
    return "sent" if response.ok else f"failed: HTTP {response.status_code}"


def webhook_problem(url: str) -> str | None:
    """Why a webhook URL may not be called, or None. Private addresses need a setting."""
    try:
        check_url(url, allow_private=bool(settings.ALLOW_PRIVATE_WEBHOOKS))
    except OutboundRefused as exc:
        return str(exc).rstrip(".")
    return None
