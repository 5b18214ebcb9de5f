"""The team's Flux apps: who owns them, where the panel asks, what the network says about them.

Which apps are the team's: every app whose owner is a ZelID one of the team's key holders linked
(`apps.wallets.WalletIdentity`) or a `WatchedOwner` a manager added, plus apps a manager added by
name (`TeamApp.Origin.ADDED`); an owner's app a manager dropped stays as a row with `dropped=True`
so the next sync does not bring it back.

Only app sync (`apps/deployments/sync.py`) writes `TeamApp`, `AppInstance` and `AppStateChange`
rows, in bulk; `AppSync` is its lock row, like the fleet's `Sweep`.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AppStatus(models.TextChoices):
    UNKNOWN = "unknown", "Not synced yet"
    HEALTHY = "healthy", "Healthy"  # every wanted instance runs
    DEGRADED = "degraded", "Degraded"  # some instances run, fewer than wanted
    DOWN = "down", "Down"  # registered and not expired, but no instance runs
    EXPIRED = "expired", "Expired"  # the subscription ended
    MISSING = "missing", "Not on the network"  # added by name; the network has no such app


class AppSyncSettings(models.Model):
    """Where a team's network queries go, and how often its apps are synced.

    Sources, tried in order until one answers: `source_node` (one of the team's nodes), then
    `gateway_url` (a FluxOS API gateway: the only non-node address the panel calls for Flux data,
    under the same outbound rules as nodes), then the team's other confirmed nodes.
    """

    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, related_name="app_sync_settings")
    source_node = models.ForeignKey("nodes.Node", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    gateway_url = models.CharField(max_length=300, blank=True)
    interval_seconds = models.PositiveIntegerField(default=300)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"app sync settings of team {self.team_id}"


class WatchedOwner(models.Model):
    """An owner address (ZelID) a manager watches read-only: no key, no signing."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="watched_owners")
    address = models.CharField(max_length=64)
    label = models.CharField(max_length=80, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["address"]
        constraints = [models.UniqueConstraint(fields=["team", "address"], name="watched_owner_address")]

    def __str__(self):
        return self.label or self.address


class TeamApp(models.Model):
    class Origin(models.TextChoices):
        OWNER = "owner", "Owned by a watched address"
        ADDED = "added", "Added by name"

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="apps")
    name = models.CharField(max_length=63)  # as FluxOS spells it
    name_key = models.CharField(max_length=63)  # lower case: FluxOS app names are case-insensitive
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.OWNER)
    dropped = models.BooleanField(default=False)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="+")

    # The message in force (global spec), as the source answered it.
    owner = models.CharField(max_length=64, blank=True)
    spec = models.JSONField(default=dict, blank=True)  # canonical (specificationFormatter) form
    spec_version = models.PositiveSmallIntegerField(null=True, blank=True)
    components = models.PositiveSmallIntegerField(default=0)
    message_height = models.IntegerField(null=True, blank=True)
    message_hash = models.CharField(max_length=64, blank=True)
    expire = models.IntegerField(null=True, blank=True)  # blocks, as in the spec (or the default)
    expiry_height = models.IntegerField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)  # estimated from the chain's block time

    instances_wanted = models.PositiveIntegerField(default=0)
    instances_running = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=AppStatus.choices, default=AppStatus.UNKNOWN)
    reason = models.CharField(max_length=300, blank=True)  # human words for the status

    # FluxOS prices at the last sync (None when the source gave no price table).
    monthly_usd = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    renewal_usd = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    renewal_flux = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    # Digest of what the three prices above were computed from (the priced fields of the spec and
    # pricing.fresh_price_era): a sync prices an app again only when it changed.
    price_key = models.CharField(max_length=64, blank=True)

    synced_at = models.DateTimeField(null=True, blank=True)
    stale = models.BooleanField(default=False)  # the last sync could not refresh this app
    stale_reason = models.CharField(max_length=300, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)  # last status change
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name_key"]
        constraints = [models.UniqueConstraint(fields=["team", "name_key"], name="team_app_name")]
        indexes = [
            models.Index(fields=["team", "dropped", "name_key"], name="team_app_list"),
            models.Index(fields=["team", "expires_at", "id"], name="team_app_expiry"),
            models.Index(fields=["team", "status", "id"], name="team_app_status"),
            models.Index(fields=["team", "monthly_usd", "id"], name="team_app_price"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.name_key = self.name.lower()
        super().save(*args, **kwargs)


class AppInstance(models.Model):
    """One location of an app (FluxOS `zelappslocation` record) and what its node says it runs."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        STOPPED = "stopped", "Not running"  # the node answered and does not run it
        UNREACHABLE = "unreachable", "Node did not answer"
        UNKNOWN = "unknown", "Not checked yet"

    app = models.ForeignKey(TeamApp, on_delete=models.CASCADE, related_name="instances")
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    location = models.CharField(max_length=80)  # `ip` or `ip:port`, as FluxOS records it
    node = models.ForeignKey("nodes.Node", on_delete=models.SET_NULL, null=True, blank=True, related_name="app_instances")
    broadcast_at = models.DateTimeField(null=True, blank=True)
    expire_at = models.DateTimeField(null=True, blank=True)  # of the location record
    running_since = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.UNKNOWN)
    reason = models.CharField(max_length=300, blank=True)
    country = models.CharField(max_length=80, blank=True)
    region = models.CharField(max_length=80, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["location"]
        constraints = [models.UniqueConstraint(fields=["app", "location"], name="app_instance_location")]
        indexes = [models.Index(fields=["team", "location"], name="app_instance_node")]

    def __str__(self):
        return f"{self.app_id}@{self.location}"


class AppStateChange(models.Model):
    """A flip of an app's status or of its running-instance count (the fleet's StatusChange pattern)."""

    app = models.ForeignKey(TeamApp, on_delete=models.CASCADE, related_name="state_changes")
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    old_status = models.CharField(max_length=16, choices=AppStatus.choices)
    new_status = models.CharField(max_length=16, choices=AppStatus.choices)
    old_running = models.PositiveIntegerField(null=True, blank=True)
    new_running = models.PositiveIntegerField(null=True, blank=True)
    wanted = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["app", "-at"], name="app_state_change_app")]

    def __str__(self):
        return f"{self.app_id}: {self.old_status} -> {self.new_status}"


class AppSync(models.Model):
    """One run of app sync for a team; a running row with a fresh heartbeat is the team's lock."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"  # no source answered: the previous data stays, marked stale
        ABANDONED = "abandoned", "Abandoned"

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="app_syncs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=300, blank=True)  # which source answered
    reason = models.CharField(max_length=300, blank=True)  # human words when a source failed
    apps = models.PositiveIntegerField(default=0)
    instances = models.PositiveIntegerField(default=0)
    nodes_checked = models.PositiveIntegerField(default=0)
    nodes_failed = models.PositiveIntegerField(default=0)
    changes = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["team", "status"], name="app_sync_team_status")]

    def __str__(self):
        return f"app sync {self.pk} of team {self.team_id} ({self.status})"


class AppAlertState(models.Model):
    """Whether an app rule fires for a team app; a notice is recorded only when this flips."""

    rule = models.ForeignKey("nodes.AlertRule", on_delete=models.CASCADE, related_name="app_states")
    app = models.ForeignKey(TeamApp, on_delete=models.CASCADE, related_name="alert_states")
    since = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "app"], name="app_alert_state_rule_app")]

    def __str__(self):
        return f"{self.rule_id}/{self.app_id}: firing"
