"""Celery tasks of backups: a schedule's beat fire, and the sweep of backups whose job died."""
from celery import shared_task


@shared_task(name="backups.run_schedule")
def run_schedule(schedule_id: int) -> str:
    from apps.backups.schedules import run_schedule as run

    return run(schedule_id)


@shared_task(name="backups.reap_orphans")
def reap_orphans() -> int:
    """Backups still "in progress" whose job ended (a worker killed mid-transfer): failed, with
    their partial archive removed."""
    from apps.backups.jobs import reap_orphans as reap

    return reap()
