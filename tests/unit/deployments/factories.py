"""Rows as app sync writes them, made directly: the pages only read them."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from apps.deployments.models import AppInstance, AppStatus, TeamApp

OWNER = "1CbErtneaX2QVyUfwU7JGB7VzvPgrgc3uC"
STATUSES = [AppStatus.HEALTHY, AppStatus.DEGRADED, AppStatus.DOWN, AppStatus.EXPIRED]


def add_apps(team, count, start=0, owner=OWNER, instances=0):
    now = timezone.now()
    apps = TeamApp.objects.bulk_create(
        TeamApp(team=team, name=f"app{i:05d}", name_key=f"app{i:05d}", owner=owner, components=2,
                spec={"version": 8, "name": f"app{i:05d}"}, instances_wanted=3, instances_running=i % 4,
                status=STATUSES[i % 4], expires_at=now + timedelta(days=i % 60, hours=1),
                monthly_usd=Decimal(i % 50) + Decimal("0.5"), synced_at=now)
        for i in range(start, start + count))
    if instances:
        AppInstance.objects.bulk_create(
            AppInstance(app=app, team=team, location=f"203.0.113.{n}:16127", state="running")
            for app in apps for n in range(instances))
    return apps
