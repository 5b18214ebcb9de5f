"""Celery tasks of the fleet: thin wrappers over sweep and alert functions."""
from celery import shared_task

from apps.nodes.alerts import evaluate_alerts, send_pending_alerts
from apps.nodes.sweep_shards import help_sweep, sweep_team


def _enqueue_helpers(sweep_id: int, helpers: int) -> None:
    for _ in range(helpers):
        sweep_shard_task.delay(sweep_id)


def _after_sweeps(sweeps) -> None:
    """Alerts once per finished sweep, by the process that finished it (never once per shard)."""
    for sweep in sweeps:
        if any(d.pending for d in evaluate_alerts(sweep.team_id)):
            send_alerts_task.delay()  # right away; beat's run picks up whatever this one misses


@shared_task(name="nodes.sweep_team", ignore_result=True)
def sweep_team_task(team_id: int):
    _after_sweeps(sweep_team(team_id, _enqueue_helpers))


@shared_task(name="nodes.sweep_shard", ignore_result=True)
def sweep_shard_task(sweep_id: int):
    """A helper of a sharded sweep: sweeps whatever shards are left to claim."""
    _after_sweeps(help_sweep(sweep_id))


@shared_task(name="nodes.send_alerts", ignore_result=True)
def send_alerts_task():
    send_pending_alerts()
