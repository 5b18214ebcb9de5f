"""Alert rules: evaluated after every sweep; a notice goes out only when a rule flips for a node.

A rule that starts holding for a node sends one "firing" notice; when it stops holding, one
"resolved" notice. While it keeps holding nothing is sent, so a flapping fleet does not storm.
Notices for a node under a maintenance claim are recorded as muted and not delivered.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from apps.nodes.health import version_key
from apps.nodes.models import AlertDelivery, AlertRule, AlertState, MaintenanceClaim, NodeSnapshot

log = logging.getLogger(__name__)
WEBHOOK_TIMEOUT = (3.05, 10)
SNAPSHOT_COLUMNS = ("node_id", "node__name", "node__address", "state", "reason", "height_lag",
                    "maintenance_blocks", "benchmark_status", "version")


def rule_holds(rule: AlertRule, snap: dict, newest_version: tuple) -> bool:
    kind, threshold = rule.kind, rule.threshold
    if snap["state"] == "unknown":
        return False
    if kind == AlertRule.Kind.NODE_DOWN:
        return snap["state"] in ("down", "error")
    answered = snap["state"] not in ("down", "error")
    if not answered:
        return False  # the other rules need an answer to judge
    if kind == AlertRule.Kind.NOT_CONFIRMED:
        return snap["state"] in ("unconfirmed", "dos")
    if kind == AlertRule.Kind.BENCHMARK_FAILED:
        return snap["benchmark_status"].lower() in ("failed", "error", "toaster")
    if kind == AlertRule.Kind.HEIGHT_BEHIND:
        return snap["height_lag"] is not None and snap["height_lag"] >= (threshold or 5)
    if kind == AlertRule.Kind.MAINTENANCE_LOW:
        minutes = None if snap["maintenance_blocks"] is None else snap["maintenance_blocks"] // 2
        return minutes is not None and minutes < (threshold or 30)
    if kind == AlertRule.Kind.VERSION_BEHIND:
        return bool(snap["version"]) and version_key(snap["version"]) < newest_version
    return False


def describe(rule: AlertRule, snap: dict, firing: bool) -> str:
    name = f"{snap['node__name']} ({snap['node__address']})"
    if not firing:
        return f"Resolved: {rule.get_kind_display()} on {name}"
    facts = {
        AlertRule.Kind.NODE_DOWN: snap["reason"],
        AlertRule.Kind.NOT_CONFIRMED: snap["reason"],
        AlertRule.Kind.BENCHMARK_FAILED: f"benchmark {snap['benchmark_status']}",
        AlertRule.Kind.HEIGHT_BEHIND: f"{snap['height_lag']} blocks behind",
        AlertRule.Kind.MAINTENANCE_LOW: f"{snap['maintenance_blocks']} blocks left",
        AlertRule.Kind.VERSION_BEHIND: f"FluxOS {snap['version']}",
    }
    return f"{rule.get_kind_display()} on {name}: {facts.get(rule.kind, '')}"[:500]


def evaluate_alerts(team_id: int) -> list[AlertDelivery]:
    """Compare every enabled rule with every node's snapshot; deliver what flipped."""
    rules = list(AlertRule.objects.filter(team_id=team_id, enabled=True))
    if not rules:
        return []
    snapshots = list(NodeSnapshot.objects.filter(team_id=team_id).values(*SNAPSHOT_COLUMNS))
    versions = [version_key(s["version"]) for s in snapshots if s["version"]]
    newest = max(versions) if versions else ()
    firing = {(a.rule_id, a.node_id): a for a in AlertState.objects.filter(rule__team_id=team_id)}
    claimed = set(
        MaintenanceClaim.objects.filter(
            node__team_id=team_id, released_at__isnull=True, until__gt=timezone.now()
        ).values_list("node_id", flat=True)
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
                ))
        AlertDelivery.objects.bulk_create(deliveries)
    for delivery in deliveries:
        if not delivery.muted:
            deliver(delivery)
    return deliveries


def deliver(delivery: AlertDelivery) -> None:
    rule = delivery.rule
    channels = {}
    if rule.email:
        recipients = [a.strip() for a in rule.email.split(",") if a.strip()]
        try:
            send_mail(f"[fluxpanel] {delivery.message}", delivery.message, None, recipients)
            channels["email"] = "sent"
        except Exception as exc:
            channels["email"] = f"failed: {exc}"[:200]
    if rule.webhook_url:
        channels["webhook"] = post_webhook(rule.webhook_url, {
            "kind": delivery.kind, "rule": rule.kind, "node": delivery.node.name,
            "address": delivery.node.address, "message": delivery.message,
            "at": delivery.created_at.isoformat(),
        })
    AlertDelivery.objects.filter(pk=delivery.pk).update(channels=channels)


def post_webhook(url: str, payload: dict) -> str:
    problem = webhook_problem(url)
    if problem:
        return f"refused: {problem}"
    try:
        response = requests.post(
            url, data=json.dumps(payload), headers={"Content-Type": "application/json"},
            timeout=WEBHOOK_TIMEOUT, allow_redirects=False,
        )
    except requests.RequestException as exc:
        return f"failed: {type(exc).__name__}"
    return "sent" if response.ok else f"failed: HTTP {response.status_code}"


def webhook_problem(url: str) -> str | None:
    """Why a webhook URL may not be called, or None. Private addresses need a setting."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "a webhook must be an http(s) URL"
    if settings.ALLOW_PRIVATE_WEBHOOKS:
        return None
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except OSError:
        return f"cannot resolve {parts.hostname}"
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            return f"{parts.hostname} is a private address (set FLUXPANEL_ALLOW_PRIVATE_WEBHOOKS to allow)"
    return None
