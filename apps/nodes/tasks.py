"""Celery tasks of the fleet: thin wrappers over sweep and alert functions."""
from celery import shared_task

from apps.nodes.alerts import evaluate_alerts, send_pending_alerts
from apps.nodes.models import Sweep
from apps.nodes.sweep import run_sweep


@shared_task(name="nodes.sweep_team", ignore_result=True)
def sweep_team_task(team_id: int):
    sweep = run_sweep(team_id)
    if sweep is not None and sweep.status == Sweep.Status.DONE:
        if any(d.pending for d in evaluate_alerts(team_id)):
            send_alerts_task.delay()  # right away; beat's run picks up whatever this one misses


@shared_task(name="nodes.send_alerts", ignore_result=True)
def send_alerts_task():
    send_pending_alerts()
