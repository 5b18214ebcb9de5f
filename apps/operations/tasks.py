"""Celery tasks of the operations app: thin wrappers (beat fires a schedule by its id)."""
from celery import shared_task

from apps.operations.schedules import run_schedule


@shared_task(name="operations.run_schedule", ignore_result=True)
def run_schedule_task(schedule_id: int):
    run_schedule(schedule_id)
