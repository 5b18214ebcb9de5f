"""Beat: keep every node's payments fresh, so a team's Earnings totals count the nodes whose
Payments tab nobody opened. Nodes whose figures are older than EARNINGS_REFRESH_S (or missing)
are read, the oldest first, at most REFRESH_BATCH a run and REFRESH_THREADS at once, each with
the node page's bounds, and written from one thread; a node that fails keeps its figures, marked
stale."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

REFRESH_BATCH = 500
REFRESH_THREADS = 16


def due_nodes(now, limit: int = REFRESH_BATCH) -> list:
    from apps.nodes.models import Node

    cutoff = now - timedelta(seconds=settings.EARNINGS_REFRESH_S)
    return list(Node.objects.filter(Q(earnings__isnull=True) | Q(earnings__refreshed_at__isnull=True)
                                    | Q(earnings__refreshed_at__lt=cutoff))
                .order_by(F("earnings__refreshed_at").asc(nulls_first=True), "pk")[:limit])


def _read_one(node, now):
    from apps.earnings.payments import read
    from apps.nodes.live import live_client
    from fluxpanel.fluxos.client.reasons import explain

    try:
        return read(live_client(node), now)
    except ValueError:  # not a node address the panel may call
        return None
    except Exception as exc:  # noqa: BLE001 - one node's odd answer must not stop the others
        return explain(exc)


@shared_task(name="earnings.refresh_due", ignore_result=True)
def refresh_due() -> int:
    now = timezone.now()
    nodes = due_nodes(now)
    from apps.earnings.payments import keep

    with ThreadPoolExecutor(max_workers=REFRESH_THREADS) as pool:
        answers = list(pool.map(lambda node: _read_one(node, now), nodes))
    for node, answer in zip(nodes, answers, strict=True):  # the writes, from this thread only
        if answer is not None:
            keep(node, answer, now)
    return len(nodes)
