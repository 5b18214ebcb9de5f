"""The payments tab of a node: its payment address's balance, the last payment, and its rewards
over time, read through the node's own explorer and kept (models.py).

FluxOS facts: getfluxnodestatus has `payment_address`, `last_paid_height`, `lastpaid` (unix
seconds) and `amount` (the collateral); `/explorer/balance/<address>` the unspent satoshis, and
`/explorer/utxo/<address>` the unspent outputs, the node's rewards being the coinbase ones.
The node is untrusted: an answer that fails or is garbage leaves the previous figures in place,
marked stale with the reason, and never ends the tab with a server error.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.earnings.models import NodeEarnings, Reward
from apps.nodes.models import BLOCK_SECONDS
from apps.nodes.tabs_common import mapping, whole
from fluxpanel.fluxos.client import BadResponse, FluxClientError
from fluxpanel.fluxos.client.explorer import check_address
from fluxpanel.fluxos.client.reasons import explain

SATOSHIS = 100_000_000
REWARDS_SHOWN = 30
# A unix time a node sends for its last payment must fall between FluxOS's launch and tomorrow.
EARLIEST_PAYMENT = datetime(2018, 1, 1, tzinfo=UTC)


def flux(satoshis: int | None) -> str:
    return "–" if satoshis is None else f"{satoshis / SATOSHIS:,.2f} FLUX"


def paid_time(value, now: datetime) -> datetime | None:
    seconds = whole(value)
    if seconds is None:
        return None
    try:
        moment = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment if EARLIEST_PAYMENT <= moment <= now + timedelta(days=1) else None


def read_explorer(client, status: dict, now: datetime) -> dict:
    """Everything the explorer says now, checked; BadResponse when it is not usable."""
    address = status.get("payment_address")
    try:
        check_address(address)
    except ValueError:
        raise BadResponse("the node status has no usable payment address",
                          url=client.path_url("daemon", "getfluxnodestatus"), body=str(address)[:100]) from None
    last_height = whole(status.get("last_paid_height"))
    last_at = paid_time(status.get("lastpaid"), now)
    balance = client.address_balance(address)
    outputs = [o for o in client.address_utxos(address) if o["coinbase"]]
    # Heights become times from the last payment's own (height, time), else from now and the tip.
    anchor_height = last_height if last_height and last_at else max((o["height"] for o in outputs), default=0)
    anchor_at = last_at if last_height and last_at else now
    for output in outputs:
        output["paid_at"] = min(now, anchor_at - timedelta(seconds=(anchor_height - output["height"]) * BLOCK_SECONDS))
    return {"address": address, "balance": balance, "last_height": last_height, "last_at": last_at,
            "collateral": str(status.get("amount") or "")[:32], "outputs": outputs}


def store(node, figures: dict, now: datetime) -> NodeEarnings:
    with transaction.atomic():
        earnings, _ = NodeEarnings.objects.update_or_create(node=node, defaults={
            "team_id": node.team_id, "payment_address": figures["address"], "collateral": figures["collateral"],
            "balance_sat": figures["balance"], "last_paid_height": figures["last_height"],
            "last_paid_at": figures["last_at"], "refreshed_at": now,
            "stale_reason": "", "stale_detail": "", "stale_since": None})
        Reward.objects.bulk_create([
            Reward(team_id=node.team_id, node=node, txid=o["txid"], vout=o["vout"], height=o["height"],
                   satoshis=o["satoshis"], paid_at=o["paid_at"]) for o in figures["outputs"]],
            ignore_conflicts=True)
    return earnings


def mark_stale(node, reason, now: datetime) -> NodeEarnings:
    earnings, _ = NodeEarnings.objects.get_or_create(node=node, defaults={"team_id": node.team_id})
    earnings.stale_reason, earnings.stale_detail = reason.short[:300], reason.detail[:500]
    earnings.stale_since = earnings.stale_since or now
    earnings.save(update_fields=["stale_reason", "stale_detail", "stale_since"])
    return earnings


def read(client, now: datetime):
    """The node's payment figures now, or the Reason it gave none (no database access: a beat
    refresh reads many nodes at once and writes from one thread)."""
    try:
        return read_explorer(client, mapping(client.flux_node_status()), now)
    except FluxClientError as exc:
        return explain(exc)


def keep(node, answer, now: datetime) -> NodeEarnings:
    """Store what read() gave: the figures, or the old ones marked stale with the reason."""
    return store(node, answer, now) if isinstance(answer, dict) else mark_stale(node, answer, now)


def refresh(client, node, *, now: datetime | None = None) -> NodeEarnings:
    """Read the node's payments now and keep them; a failure keeps the old figures, marked."""
    now = now or timezone.now()
    return keep(node, read(client, now), now)


def payments(client, node) -> dict:
    """The tab's reader (apps.nodes.live): refresh, then show what is kept."""
    from apps.earnings.charts import rewards_chart

    earnings = refresh(client, node)
    recent = list(Reward.objects.filter(node=node).order_by("-paid_at")[:REWARDS_SHOWN])
    since = timezone.now() - timedelta(days=30)
    days = list(Reward.objects.filter(node=node, paid_at__gte=since).values_list("paid_at", "satoshis"))
    return {
        "earnings": earnings, "balance": flux(earnings.balance_sat), "recent": [
            {"height": r.height, "paid_at": r.paid_at, "amount": flux(r.satoshis), "txid": r.txid} for r in recent],
        "chart": rewards_chart(days, start=since, end=timezone.now()),
        "month_total": flux(sum(s for _, s in days)) if days else flux(0),
    }
