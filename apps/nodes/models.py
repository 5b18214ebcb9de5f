"""Nodes, their latest snapshot, status changes, sweeps, alert rules and maintenance claims."""
from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


class NodeGroup(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="node_groups")
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="node_group_name")]

    def __str__(self):
        return self.name


class Node(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="nodes")
    name = models.CharField(max_length=100)
    # What the manager registered (normalised `host:port`), and the URL the panel calls.
    address = models.CharField(max_length=255)
    base_url = models.CharField(max_length=300)
    group = models.ForeignKey(NodeGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="nodes")
    provider = models.CharField(max_length=80, blank=True)
    monthly_cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "address"], name="node_address_per_team"),
            models.UniqueConstraint(fields=["team", "name"], name="node_name_per_team"),
        ]

    def __str__(self):
        return self.name


# Chain rules of FluxOS, defined once: a node must confirm every 480–600 blocks, and blocks come
# every 30 s (so a maintenance window in blocks is half as many minutes).
CONFIRMATION_BLOCKS = 480
BLOCK_SECONDS = 30
# The largest value of the snapshot's integer columns (32-bit on every database Django supports):
# a node's numbers above it are garbage, never written.
MAX_COLUMN_INT = 2**31 - 1


def blocks_to_minutes(blocks: int | None) -> int | None:
    """Minutes of a number of blocks (the maintenance window), rounded down."""
    return None if blocks is None else blocks * BLOCK_SECONDS // 60


class NodeState(models.TextChoices):
    """The one word a fleet table shows per node, worst first."""

    DOWN = "down", "Down"            # no answer: refused, timed out, hung
    ERROR = "error", "Error"         # answered, but not a usable FluxOS reply (500, garbage)
    DOS = "dos", "DOS"               # the network put it in DOS state
    UNCONFIRMED = "unconfirmed", "Not confirmed"
    CONFIRMED = "confirmed", "Confirmed"
    UNKNOWN = "unknown", "Not swept yet"

    @classmethod
    def answered(cls, state: str) -> bool:
        """The node gave a usable FluxOS answer (its network status is a separate matter)."""
        return state in ANSWERED_STATES

    @classmethod
    def failed(cls, state: str) -> bool:
        """The last sweep got no usable answer: down (silent) or error (garbage)."""
        return state in (cls.DOWN, cls.ERROR)


ANSWERED_STATES = frozenset({NodeState.DOS, NodeState.UNCONFIRMED, NodeState.CONFIRMED})


class NodeSnapshot(models.Model):
    """The latest sweep result of one node (one row per node, upserted in bulk by each sweep)."""

    node = models.OneToOneField(Node, on_delete=models.CASCADE, primary_key=True, related_name="snapshot")
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=16, choices=NodeState.choices, default=NodeState.UNKNOWN, db_index=True)
    reason = models.CharField(max_length=300, blank=True)  # short, for people
    reason_detail = models.CharField(max_length=500, blank=True)  # technical detail of the failure
    version = models.CharField(max_length=32, blank=True)
    tier = models.CharField(max_length=16, blank=True)
    flux_status = models.CharField(max_length=32, blank=True)
    height = models.IntegerField(null=True, blank=True)
    height_lag = models.IntegerField(null=True, blank=True)
    last_confirmed_height = models.IntegerField(null=True, blank=True)
    maintenance_blocks = models.IntegerField(null=True, blank=True)
    benchmark_status = models.CharField(max_length=32, blank=True)
    arcane = models.BooleanField(null=True)
    apps_running = models.IntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)  # compact extras for the node page
    # What the node said the last time it answered (version, tier, arcane, apps_running, zelid,
    # apps), kept while it is silent so its page can show them "as of" last_seen. The columns
    # above are the last sweep's alone (empty for a silent node), as metrics and app sync expect.
    last_known = models.JSONField(default=dict, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # One per sortable column, ending in node_id (the fleet table's tie-breaker), so a page of
        # a large fleet is read straight from an index instead of sorting every row.
        indexes = [
            models.Index(fields=["team", "state", "node"], name="snap_team_state"),
            models.Index(fields=["team", "height_lag", "node"], name="snap_team_lag"),
            models.Index(fields=["team", "maintenance_blocks", "node"], name="snap_team_maint"),
            models.Index(fields=["team", "last_seen", "node"], name="snap_team_seen"),
            models.Index(fields=["team", "version", "node"], name="snap_team_version"),
            models.Index(fields=["team", "tier", "node"], name="snap_team_tier"),
        ]

    def __str__(self):
        return f"{self.node_id}: {self.state}"

    @property
    def maintenance_minutes(self) -> int | None:
        return blocks_to_minutes(self.maintenance_blocks)

    @property
    def answered(self) -> bool:
        return NodeState.answered(self.state)

    @property
    def as_of(self):
        """When the facts shown for a silent node were last true (its last answer), else None."""
        if NodeState.failed(self.state) and self.last_seen and self.last_known:
            return self.last_seen
        return None

    @property
    def facts(self) -> dict:
        """Tier, version, ArcaneOS, apps and owner to show: the last sweep's, or for a silent node
        the last-known ones (see as_of)."""
        if self.as_of is not None:
            known = self.last_known
            return {"version": known.get("version") or "", "tier": known.get("tier") or "",
                    "arcane": known.get("arcane"), "apps_running": known.get("apps_running"),
                    "zelid": known.get("zelid"), "apps": known.get("apps") or []}
        detail = self.detail or {}
        return {"version": self.version, "tier": self.tier, "arcane": self.arcane,
                "apps_running": self.apps_running, "zelid": detail.get("zelid"),
                "apps": detail.get("apps") or []}


class StatusChange(models.Model):
    """A transition of a node's state; history and uptime are computed from these rows only."""

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="status_changes")
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    old_state = models.CharField(max_length=16, choices=NodeState.choices)
    new_state = models.CharField(max_length=16, choices=NodeState.choices)
    reason = models.CharField(max_length=300, blank=True)
    reason_detail = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["node", "-at"])]

    def __str__(self):
        return f"{self.node_id}: {self.old_state} → {self.new_state}"


class SweepSettings(models.Model):
    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, related_name="sweep_settings")
    interval_seconds = models.PositiveIntegerField(default=60)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self):
        return f"sweep every {self.interval_seconds}s"


class Sweep(models.Model):
    """One sweep of a team's fleet. A row in `running` with a recent heartbeat holds the lock."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        ABANDONED = "abandoned", "Abandoned"  # its process died; the next sweep took over

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="sweeps")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    nodes = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    changes = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["team", "status"])]

    def __str__(self):
        return f"sweep {self.pk} ({self.status})"


class SweepShard(models.Model):
    """One contiguous range of a sharded sweep's nodes (by node id), swept by one worker process.

    A shard is claimed with a conditional UPDATE (pending, or running with a lapsed heartbeat), so
    two processes never hold it at once; `attempts` is the claim's token: a holder writes its
    results only while the row still carries its attempt, so a reclaimed shard's late holder
    writes nothing. The Sweep is done when every shard is."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        ABANDONED = "abandoned", "Abandoned"  # its sweep was taken over

    UNFINISHED = (Status.PENDING, Status.RUNNING)

    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="shards")
    index = models.PositiveIntegerField()
    first_node = models.BigIntegerField()  # node ids, both inclusive
    last_node = models.BigIntegerField()
    nodes = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    worker = models.CharField(max_length=200, blank=True)  # ProcessHeartbeat identity of the holder
    attempts = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    changes = models.PositiveIntegerField(default=0)
    # The fleet height this shard's own answers gave; the sweep's finisher corrects the shard's
    # lags when the whole fleet's height differs.
    fleet_height = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["sweep", "index"]
        constraints = [models.UniqueConstraint(fields=["sweep", "index"], name="sweep_shard_index")]
        indexes = [models.Index(fields=["sweep", "status"], name="sweep_shard_status")]

    def __str__(self):
        return f"shard {self.index} of sweep {self.sweep_id} ({self.status})"


class AlertRule(models.Model):
    # Blocks or minutes; far above any useful value, well inside the column.
    MAX_THRESHOLD = 1_000_000

    class Kind(models.TextChoices):
        NODE_DOWN = "node_down", "Node down or answering garbage"
        NOT_CONFIRMED = "not_confirmed", "Node not CONFIRMED"
        BENCHMARK_FAILED = "benchmark_failed", "Benchmark failed"
        HEIGHT_BEHIND = "height_behind", "Block height behind by N blocks"
        MAINTENANCE_LOW = "maintenance_low", "Maintenance window under N minutes"
        VERSION_BEHIND = "version_behind", "FluxOS version behind the fleet's newest"
        # App rules (evaluated after each app sync by apps.deployments.alerts).
        APP_EXPIRES = "app_expires", "App expires within N days"
        APP_INSTANCES_LOW = "app_instances_low", "App runs fewer instances than it wants"
        APP_DOWN = "app_down", "App is down everywhere"
        # Raised and resolved by the backup jobs and schedules themselves (apps.backups.alerts).
        BACKUP_FAILED = "backup_failed", "Backup failed or not verified"

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="alert_rules")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    threshold = models.PositiveIntegerField(null=True, blank=True)
    email = models.CharField(max_length=500, blank=True, help_text="Comma-separated addresses")
    webhook_url = models.URLField(max_length=500, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "id"]

    def __str__(self):
        return self.get_kind_display() + (f" ({self.threshold})" if self.threshold is not None else "")


class AlertState(models.Model):
    """Whether a rule is firing for a node; an alert goes out only when this flips."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="states")
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="alert_states")
    firing = models.BooleanField(default=False)
    since = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "node"], name="alert_state_rule_node")]

    def __str__(self):
        return f"{self.rule_id}/{self.node_id}: {'firing' if self.firing else 'ok'}"


class AlertDelivery(models.Model):
    """One notice sent (or muted, or failed) for a rule flipping on a node or on a team app."""

    class Kind(models.TextChoices):
        FIRING = "firing", "Firing"
        RESOLVED = "resolved", "Resolved"

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="deliveries")
    # Exactly one of node / app is set.
    node = models.ForeignKey(Node, on_delete=models.CASCADE, null=True, blank=True, related_name="alert_deliveries")
    app = models.ForeignKey("deployments.TeamApp", on_delete=models.CASCADE, null=True, blank=True,
                            related_name="alert_deliveries")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    message = models.CharField(max_length=500)
    detail = models.CharField(max_length=500, blank=True)  # the technical detail of a failure
    muted = models.BooleanField(default=False)
    channels = models.JSONField(default=dict)  # {"email": "sent"|error, "webhook": "sent"|error}
    created_at = models.DateTimeField(default=timezone.now)
    # The outbox: a sweep only records the row; a sender claims it (claimed_at, conditional UPDATE)
    # and sets sent_at when done. A claim older than alerts.RECLAIM_AFTER belongs to a dead sender.
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at"], name="alert_delivery_pending",
                                condition=models.Q(sent_at__isnull=True, muted=False))]

    def __str__(self):
        return self.message

    @property
    def pending(self) -> bool:
        return self.sent_at is None and not self.muted


class MaintenanceClaim(models.Model):
    """A member works on a node until `until`: its alerts are muted and others see who holds it."""

    MAX_MINUTES = 7 * 24 * 60

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="claims")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    until = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.user} on {self.node} until {self.until:%Y-%m-%d %H:%M}"

    @classmethod
    def active(cls, now=None):
        """Claims in force: not released, not expired."""
        return cls.objects.filter(released_at__isnull=True, until__gt=now or timezone.now())


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class MetricsToken(models.Model):
    """A bearer token for `/metrics`; only its hash is stored, the token is shown once."""

    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, related_name="metrics_token")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"metrics token of {self.team_id}"

    @staticmethod
    def new_token() -> str:
        return "fpm_" + secrets.token_urlsafe(24)
