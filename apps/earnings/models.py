"""What the explorer said about a node's payments, kept so a bad answer later cannot erase it.

`NodeEarnings` is one row per node (the payment address's balance, the last payment); when the
next read fails or is garbage the figures stay and the row says since when they are stale and
why. `Reward` rows are the node's reward outputs (coinbase to the payment address) as they were
seen: FluxOS's explorer lists only unspent outputs, so a row is kept after its output is spent,
and the team's monthly totals are sums of these rows.
"""
from __future__ import annotations

from django.db import models


class NodeEarnings(models.Model):
    node = models.OneToOneField("nodes.Node", on_delete=models.CASCADE, primary_key=True,
                                related_name="earnings")
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    payment_address = models.CharField(max_length=64, blank=True)
    collateral = models.CharField(max_length=32, blank=True)  # FLUX, as getfluxnodestatus `amount`
    balance_sat = models.BigIntegerField(null=True, blank=True)
    last_paid_height = models.IntegerField(null=True, blank=True)
    last_paid_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)  # last answer that was used
    stale_reason = models.CharField(max_length=300, blank=True)  # short, for people
    stale_detail = models.CharField(max_length=500, blank=True)
    stale_since = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.node_id}: {self.balance_sat} sat"

    @property
    def stale(self) -> bool:
        return bool(self.stale_reason)


class Reward(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    node = models.ForeignKey("nodes.Node", on_delete=models.CASCADE, related_name="rewards")
    txid = models.CharField(max_length=64)
    vout = models.PositiveIntegerField()
    height = models.IntegerField()
    satoshis = models.BigIntegerField()
    paid_at = models.DateTimeField()  # estimated from the height (30 s blocks)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["node", "txid", "vout"], name="reward_once")]
        indexes = [models.Index(fields=["team", "paid_at"], name="reward_team_time"),
                   models.Index(fields=["node", "paid_at"], name="reward_node_time")]

    def __str__(self):
        return f"{self.node_id} @ {self.height}: {self.satoshis} sat"
