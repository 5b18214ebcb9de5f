"""The job kind "check connectivity" (the demo's job): proves the whole job path end to end.

It checks what the panel needs to work (the database, the broker), then asks each of the team's
registered nodes for its FluxOS version, reporting every step as output with progress.
"""
import time

from django.db import connection

from apps.accounts.models import Role
from apps.jobs.kinds import job_kind
from apps.nodes.clients import node_client

ROUNDS = 3
MAX_NODES = 200  # a connectivity check, not a sweep: the fleet page covers the whole fleet


@job_kind("check_connectivity", label="Check connectivity", role=Role.OPERATOR, manual=True)
def check_connectivity(ctx, pause: float = 0.3):
    from fluxpanel.health import check_broker

    ctx.log("Checking the database…", progress=5)
    for round_number in range(1, ROUNDS + 1):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        elapsed_ms = (time.perf_counter() - started) * 1000
        ctx.log(f"Database round-trip {round_number}/{ROUNDS}: {elapsed_ms:.2f} ms "
                f"({connection.vendor})", progress=5 + round_number * 5)
        time.sleep(pause)

    ctx.log("Checking the broker…")
    problem = check_broker()
    if problem:
        raise RuntimeError(f"broker: {problem}")
    ctx.log("Broker ok.", progress=25)
    check_nodes(ctx, pause)


def check_nodes(ctx, pause: float) -> None:
    from apps.nodes.models import Node
    from fluxpanel.fluxos.client import FluxClientError
    from fluxpanel.fluxos.client.reasons import explain

    nodes = list(Node.objects.filter(team_id=ctx.job.team_id).values_list("name", "base_url")[:MAX_NODES])
    if not nodes:
        ctx.log("No nodes registered yet: nothing more to check.", progress=95)
        return
    ctx.log(f"Asking {len(nodes)} registered node(s) for their FluxOS version…")
    failures = 0
    for index, (name, base_url) in enumerate(nodes, start=1):
        started = time.perf_counter()
        try:
            version = node_client(base_url, timeout=(3.05, 5)).version()
            line = f"{name}: FluxOS {version} ({(time.perf_counter() - started) * 1000:.0f} ms)"
        except FluxClientError as exc:
            failures += 1
            line = f"{name}: not reachable — {explain(exc).short}"
        ctx.log(line, progress=25 + index * 70 // len(nodes))
        time.sleep(pause / 10)
    ctx.log(f"{len(nodes) - failures} of {len(nodes)} node(s) answered.")
