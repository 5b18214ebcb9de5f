"""The demo job kind, "check connectivity": proves the whole job path end to end.

It checks what a panel needs to work (the database, the broker), measures the database's
round-trip a few times, and reports each step as output with progress.
"""
import time

from django.db import connection

from apps.accounts.models import Role
from apps.jobs.kinds import job_kind

ROUNDS = 5


@job_kind("check_connectivity", label="Check connectivity", role=Role.OPERATOR, manual=True)
def check_connectivity(ctx, pause: float = 0.4):
    from fluxpanel.health import check_broker

    ctx.log("Checking the database…", progress=5)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    ctx.log(f"Database ok ({connection.vendor}).", progress=15)

    ctx.log("Checking the broker…")
    problem = check_broker()
    if problem:
        raise RuntimeError(f"broker: {problem}")
    ctx.log("Broker ok.", progress=30)

    for round_number in range(1, ROUNDS + 1):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        elapsed_ms = (time.perf_counter() - started) * 1000
        ctx.log(
            f"Round {round_number}/{ROUNDS}: database round-trip {elapsed_ms:.2f} ms",
            progress=30 + round_number * 70 // (ROUNDS + 1),
        )
        time.sleep(pause)
