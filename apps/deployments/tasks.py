"""Celery tasks of app sync: thin wrappers over `apps.deployments.sync`.

App alert rules and the world-state bridge hook the `apps_synced` signal; nothing here calls them.
"""
from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db.models import Max
from django.utils import timezone

from apps.deployments.models import AppSync, AppSyncSettings, TeamApp, WatchedOwner
from apps.deployments.sync import run_app_sync
from apps.wallets.models import WalletIdentity

DEFAULT_INTERVAL_S = 300


@shared_task(name="deployments.sync_team", ignore_result=True)
def sync_team_task(team_id: int):
    run_app_sync(team_id)


def due_team_ids(now=None) -> list[int]:
    """Teams with owners (linked ZelIDs or watched) or apps whose last sync started an interval ago."""
    now = now or timezone.now()
    teams = set(WatchedOwner.objects.values_list("team_id", flat=True).distinct())
    teams |= set(TeamApp.objects.values_list("team_id", flat=True).distinct())
    teams |= set(WalletIdentity.objects.values_list("user__memberships__team_id", flat=True).distinct())
    teams.discard(None)
    last = dict(AppSync.objects.filter(team_id__in=teams).values("team_id").annotate(at=Max("started_at"))
                .values_list("team_id", "at"))
    intervals = dict(AppSyncSettings.objects.filter(team_id__in=teams).values_list("team_id", "interval_seconds"))
    due = []
    for team_id in sorted(teams):
        started = last.get(team_id)
        interval = intervals.get(team_id) or DEFAULT_INTERVAL_S
        if started is None or started <= now - timedelta(seconds=interval):
            due.append(team_id)
    return due


@shared_task(name="deployments.sync_due", ignore_result=True)
def sync_due_task():
    for team_id in due_team_ids():
        sync_team_task.delay(team_id)
