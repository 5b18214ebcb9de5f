"""What the panel keeps about backups.

`Backup`: one archive of one component of a team app, taken on one node (FluxOS's
`backup/local/backup_<component>.tar.gz`) and copied into the panel's backup storage, encrypted
(apps.backups.storage). `size` and `sha256` are of the plain archive; `stored_size` is what the
storage holds. A row is "verified" only once the stored copy was read back, its checksum matched
and every tar member was read (apps.backups.verify). Rows outlive their archive: a pruned or
deleted backup keeps its row (status `removed`) so history and audit stay readable.

`BackupSchedule`: backups of chosen components of an app at a frequency, run by beat (one
django-celery-beat PeriodicTask per schedule, apps.backups.schedules), with the retention that
prunes the schedule's own backups after each run (apps.backups.retention).
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.timezone import now as django_now  # BackupSchedule has a field named timezone


class Backup(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "In progress"
        STORED = "stored", "Stored, not verified"
        VERIFIED = "verified", "Verified"
        FAILED = "failed", "Failed"
        REMOVED = "removed", "Removed"

    class Kind(models.TextChoices):
        MANUAL = "manual", "On demand"
        SCHEDULED = "scheduled", "Scheduled"
        SAFETY = "safety", "Safety (before a restore)"
        UPLOADED = "uploaded", "Uploaded archive"

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    app = models.ForeignKey("deployments.TeamApp", on_delete=models.CASCADE, related_name="backups")
    component = models.CharField(max_length=64)  # "" for a v1–v3 app (one container)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MANUAL)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    # Where it was taken: the node row while it exists, and its words at the time for ever.
    node = models.ForeignKey("nodes.Node", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    source = models.CharField(max_length=200, blank=True)  # "node-name (ip:port)" or "upload: name.tar.gz"
    schedule = models.ForeignKey("backups.BackupSchedule", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="backups")
    job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="+")
    # The storage: the name inside the backups storage and which storage it was ("folder" / "s3:<bucket>").
    storage_name = models.CharField(max_length=500, blank=True)
    storage_label = models.CharField(max_length=200, blank=True)
    size = models.BigIntegerField(null=True, blank=True)  # bytes of the plain archive
    stored_size = models.BigIntegerField(null=True, blank=True)  # bytes in storage (sealed)
    sha256 = models.CharField(max_length=64, blank=True)  # of the plain archive
    created_at = models.DateTimeField(default=django_now)
    stored_at = models.DateTimeField(null=True, blank=True)
    transfer_seconds = models.FloatField(null=True, blank=True)  # node → storage
    removed_from_node = models.BooleanField(default=False)
    # Verification: when, how long, and what the walk of the tar found.
    verified_at = models.DateTimeField(null=True, blank=True)
    verify_seconds = models.FloatField(null=True, blank=True)
    members = models.PositiveIntegerField(null=True, blank=True)
    member_bytes = models.BigIntegerField(null=True, blank=True)
    failure = models.CharField(max_length=500, blank=True)  # a human reason when failed
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_why = models.CharField(max_length=200, blank=True)  # "pruned by retention", "deleted by alice"

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["app", "component", "-created_at"], name="backup_app_component")]

    def __str__(self):
        return f"backup #{self.pk} of {self.component or 'the app'}"

    @property
    def restorable(self) -> bool:
        return self.status == self.Status.VERIFIED


class BackupSchedule(models.Model):
    class Frequency(models.TextChoices):
        HOURLY = "hourly", "Every hour"
        DAILY = "daily", "Every day"
        WEEKLY = "weekly", "Every week"
        MONTHLY = "monthly", "Every month"

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    app = models.ForeignKey("deployments.TeamApp", on_delete=models.CASCADE, related_name="backup_schedules")
    components = models.JSONField(default=list)  # component names; [""] for a v1–v3 app
    # The instance to back up (its location); "" takes the first instance that runs at that time.
    instance_location = models.CharField(max_length=64, blank=True)
    frequency = models.CharField(max_length=16, choices=Frequency.choices, default=Frequency.DAILY)
    minute = models.PositiveSmallIntegerField(default=0)  # 0–59
    hour = models.PositiveSmallIntegerField(default=3)  # 0–23 (daily, weekly, monthly)
    weekday = models.PositiveSmallIntegerField(default=0)  # 0 = Monday (weekly)
    day_of_month = models.PositiveSmallIntegerField(default=1)  # 1–28 (monthly)
    timezone = models.CharField(max_length=64, default="UTC")
    # How late a run may still start; a fire later than this is recorded as missed.
    window_minutes = models.PositiveSmallIntegerField(default=60)
    remove_from_node = models.BooleanField(default=True)
    # Retention of this schedule's backups (0 = that rule keeps none); the newest verified is always kept.
    keep_last = models.PositiveSmallIntegerField(default=7)
    keep_daily = models.PositiveSmallIntegerField(default=7)
    keep_weekly = models.PositiveSmallIntegerField(default=4)
    keep_monthly = models.PositiveSmallIntegerField(default=6)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    created_at = models.DateTimeField(default=django_now)
    # Created, edited or resumed: due times before it were never this schedule's (see schedules.missed).
    changed_at = models.DateTimeField(default=django_now)
    periodic_task = models.OneToOneField("django_celery_beat.PeriodicTask", on_delete=models.SET_NULL,
                                         null=True, blank=True, related_name="+")
    last_job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["app__name", "id"]

    def __str__(self):
        return f"{self.get_frequency_display().lower()} backup of app {self.app_id}"
