"""Wallet identities, sign-in challenges, signing requests, node sessions, app-owner authorisations.

What the database never holds in clear text: a session's signature (nor its phrase). Session triples
are `sealed` with apps.wallets.vault; signatures of panel challenges and of requests are checked
and then dropped.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

EXPIRY_WARNING = timedelta(days=3)


def new_token() -> str:
    return secrets.token_urlsafe(24)


class WalletIdentity(models.Model):
    """A ZelID whose control `user` proved by signing a panel challenge: the user is its key holder."""

    class Kind(models.TextChoices):
        BTC = "btc", "Bitcoin-style (ZelCore, SSP)"
        ETH = "eth", "EVM (MetaMask…)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wallet_identities"
    )
    zelid = models.CharField(max_length=64)  # as the wallet spelled it
    zelid_key = models.CharField(max_length=64, unique=True)  # see zelids.zelid_key
    kind = models.CharField(max_length=8, choices=Kind.choices)
    proven_at = models.DateTimeField(default=timezone.now)
    last_signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["proven_at", "id"]
        verbose_name_plural = "wallet identities"

    def __str__(self):
        return self.zelid


class Challenge(models.Model):
    """A message the panel issues for signing in or linking a ZelID: single use, 15 minutes.

    Bound to the browser session that asked for it (`session_hash`), so a signature posted by
    ZelCore's callback can only ever sign in the browser that showed the message.
    """

    class Purpose(models.TextChoices):
        SIGN_IN = "signin", "Sign in"
        BIND = "bind", "Link a ZelID"

    LIFE = timedelta(minutes=15)

    purpose = models.CharField(max_length=8, choices=Purpose.choices)
    message = models.TextField()
    token = models.CharField(max_length=64, unique=True, default=new_token)
    session_hash = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # Set by the ZelCore callback once the signature verified; the browser's poll finishes the job.
    proven_zelid = models.CharField(max_length=64, blank=True)
    callback_error = models.CharField(max_length=300, blank=True)
    used_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self):
        return f"{self.purpose} challenge {self.pk}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


def batch_audit_flow(batch: str) -> str:
    return f"signing-batch:{batch}"


class SigningRequest(models.Model):
    """Something only a key holder can sign, prepared by an operator and waiting in a queue.

    The message of a node login is fetched from the node when the key holder opens the request
    (a node's login phrase lives 15 minutes; the request itself waits much longer).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the key holder"
        SIGNING = "signing", "Being completed"
        SIGNED = "signed", "Signed"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Withdrawn"
        EXPIRED = "expired", "Expired"
        FAILED = "failed", "Failed"

    OPEN = (Status.PENDING, Status.SIGNING)

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="signing_requests")
    kind = models.CharField(max_length=32)
    zelid = models.CharField(max_length=64)  # spelled as the node or the app spec spells it
    zelid_key = models.CharField(max_length=64, db_index=True)
    node = models.ForeignKey(
        "nodes.Node", on_delete=models.CASCADE, null=True, blank=True, related_name="signing_requests"
    )
    batch = models.CharField(max_length=32, blank=True, db_index=True)
    purpose = models.CharField(max_length=300)
    payload = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    message_at = models.DateTimeField(null=True, blank=True)
    token = models.CharField(max_length=64, unique=True, default=new_token)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The key holder whose browser shows the message now: ZelCore's callback acts as them.
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=300, blank=True)  # result or error; never a secret
    callback_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["team", "status"])]

    def __str__(self):
        return f"{self.kind} #{self.pk} for {self.zelid}"

    @property
    def audit_flow(self) -> str:
        """Audit rows of this request (and of its batch) read as one entry on the audit page."""
        return batch_audit_flow(self.batch) if self.batch else f"signing:{self.pk}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def shown_status(self) -> str:
        """The status a page shows: a pending request past its time is expired, row or not."""
        if self.status in self.OPEN and self.is_expired:
            return self.Status.EXPIRED
        return self.status


class NodeSession(models.Model):
    """A FluxOS login on one node (14 days from the phrase), usable by the team's operators.

    `sealed` holds the triple {zelid, loginPhrase, signature}; nothing else here is secret.
    """

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="node_sessions")
    node = models.ForeignKey("nodes.Node", on_delete=models.CASCADE, related_name="wallet_sessions")
    zelid = models.CharField(max_length=64)
    privilege = models.CharField(max_length=16)  # admin | fluxteam | user, as the node said
    sealed = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["node__name", "zelid"]
        constraints = [
            models.UniqueConstraint(fields=["node", "zelid"], name="one_wallet_session_per_node_zelid")
        ]

    def __str__(self):
        return f"{self.zelid} on {self.node_id}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def expires_soon(self) -> bool:
        return not self.is_expired and self.expires_at - timezone.now() <= EXPIRY_WARNING


class AppOwnerAuthorisation(models.Model):
    """A self-issued phrase signed by an app owner: accepted by every node for 2 hours for that
    owner's apps. Kept only for those 2 hours (purged afterwards)."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="app_owner_auths")
    zelid = models.CharField(max_length=64)
    sealed = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["expires_at"]
        constraints = [
            models.UniqueConstraint(fields=["team", "zelid"], name="one_app_owner_auth_per_team_zelid")
        ]

    def __str__(self):
        return f"app owner {self.zelid}"
