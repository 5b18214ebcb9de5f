"""A draft spec of one of the team's apps, from its first edit to the moment it is live.

    draft ──► awaiting signature ──► submitted ──► awaiting payment ──► live
       ▲              │                  │                │
       └──────────────┴──── failed / abandoned (with the reason) ◄───┘

A draft is for a new app (`kind=new`), an edit of a live app (`update`), or the two updates that
only move `expire`: `renew` and `cancel`. `spec` is what the user is building: a v8 spec that may
be invalid while they type. `base_spec` is the live spec an update started from (the diff's left
side). Once signed, `message_*` hold the exact message that went to the network (never the
signature: that is sent once and dropped).
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AppDraft(models.Model):
    class Kind(models.TextChoices):
        NEW = "new", "New app"
        UPDATE = "update", "Update"
        RENEW = "renew", "Renewal"
        CANCEL = "cancel", "Cancellation"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        AWAITING_SIGNATURE = "awaiting_signature", "Awaiting signature"
        SUBMITTED = "submitted", "Submitted"
        AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
        LIVE = "live", "Live"
        FAILED = "failed", "Failed"
        ABANDONED = "abandoned", "Abandoned"

    # Statuses in which the spec may still be edited.
    EDITABLE = (Status.DRAFT, Status.FAILED)
    OPEN = (Status.DRAFT, Status.AWAITING_SIGNATURE, Status.SUBMITTED, Status.AWAITING_PAYMENT, Status.FAILED)

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="app_drafts")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.NEW)
    # The live app an update/renew/cancel changes (None for a new app).
    app = models.ForeignKey("deployments.TeamApp", on_delete=models.SET_NULL, null=True, blank=True,
                            related_name="drafts")
    name = models.CharField(max_length=64, blank=True)  # the spec's name, kept for lists and search
    spec = models.JSONField(default=dict, blank=True)
    base_spec = models.JSONField(null=True, blank=True)  # the live spec an update started from
    base_height = models.PositiveBigIntegerField(null=True, blank=True)  # its message's height
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.DRAFT)
    reason = models.CharField(max_length=500, blank=True)  # why it failed or was abandoned
    # Bumped on every save: a stale editor (another tab, another user) is told, not overwritten.
    revision = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    # Signing and submission.
    signing_request = models.ForeignKey("wallets.SigningRequest", on_delete=models.SET_NULL, null=True,
                                        blank=True, related_name="+")
    message_type = models.CharField(max_length=32, blank=True)  # fluxappregister / fluxappupdate
    message_timestamp = models.PositiveBigIntegerField(null=True, blank=True)  # ms, in the message
    message_spec = models.JSONField(null=True, blank=True)  # the formatted spec that was signed
    message_hash = models.CharField(max_length=64, blank=True)  # what FluxOS answered
    price_flux = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    price_usd = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    submitted_to = models.CharField(max_length=300, blank=True)  # label of the node or gateway
    submitted_at = models.DateTimeField(null=True, blank=True)
    payment_address = models.CharField(max_length=64, blank=True)
    live_at = models.DateTimeField(null=True, blank=True)
    submit_job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    watch_job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["team", "status"]), models.Index(fields=["message_hash"])]

    def __str__(self):
        return f"{self.get_kind_display()} draft {self.name or '(unnamed)'} #{self.pk}"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE


class DraftEvent(models.Model):
    """Who did what to a draft, in order: saves, status changes, submissions (the draft's own log;
    the audit log keeps the team-wide record)."""

    draft = models.ForeignKey(AppDraft, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              related_name="+")
    status = models.CharField(max_length=24, choices=AppDraft.Status.choices)
    text = models.CharField(max_length=500)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.text}"
