"""Celery tasks of the fleet: thin wrappers over sweep and alert functions."""
from celery import shared_task

from apps.nodes.alerts import evaluate_alerts
from apps.nodes.sweep import run_sweep


@shared_task(name="nodes.sweep_team", ignore_result=True)
def sweep_team_task(team_id: int):
    sweep = run_sweep(team_id)
    if sweep is not None:
        evaluate_alerts(team_id)
