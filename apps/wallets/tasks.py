"""Celery tasks of the wallets app: thin wrappers over actions."""
from celery import shared_task

from apps.wallets.actions import housekeeping, warn_expiring_sessions


@shared_task(name="wallets.housekeeping", ignore_result=True)
def housekeeping_task():
    """Expire overdue signing requests; drop lapsed authorisations, long-dead node sessions, old
    challenges and expired browser sessions."""
    return housekeeping()


@shared_task(name="wallets.warn_expiring", ignore_result=True)
def warn_expiring_task():
    """Mail the key holders of sessions that end within three days (once per session)."""
    return warn_expiring_sessions()
