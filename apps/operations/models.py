"""What the operations pages keep between requests.

`StatsSample`: one reading of one component on one instance, taken by the Stats page while someone
watches it (FluxOS's own monitor history route is broken in this FluxOS version, see the
reference §7.3), so the last hour can be drawn. Samples older than `OPERATIONS_STATS_KEEP_S` are
deleted as new ones are written. Counters (CPU time, network and block bytes) are kept as FluxOS
reports them, cumulative; the chart draws the rate between two samples.

`TeamWindow` and `OperationSchedule`: a team's own maintenance windows and the rolling operations
scheduled into them (apps.operations.windows, apps.operations.schedules).
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.timezone import now as django_now  # TeamWindow has a field named timezone


class StatsSample(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    instance = models.ForeignKey("deployments.AppInstance", on_delete=models.CASCADE, related_name="stats_samples")
    component = models.CharField(max_length=64, blank=True)  # "" for a v1–v3 app (one container)
    taken_at = models.DateTimeField(default=timezone.now)
    cpu_percent = models.FloatField(null=True, blank=True)  # of the whole node, docker's way
    memory_used = models.BigIntegerField(null=True, blank=True)  # bytes, page cache excluded
    memory_limit = models.BigIntegerField(null=True, blank=True)
    net_rx = models.BigIntegerField(null=True, blank=True)  # cumulative bytes, all interfaces
    net_tx = models.BigIntegerField(null=True, blank=True)
    disk_read = models.BigIntegerField(null=True, blank=True)  # cumulative block bytes
    disk_write = models.BigIntegerField(null=True, blank=True)
    disk_used = models.BigIntegerField(null=True, blank=True)  # bytes on the volume and rootfs

    class Meta:
        ordering = ["taken_at", "id"]
        indexes = [models.Index(fields=["instance", "component", "taken_at"], name="stats_sample_series")]

    def __str__(self):
        return f"{self.instance_id}/{self.component or '-'} @ {self.taken_at:%H:%M:%S}"


class TeamWindow(models.Model):
    """A team's own maintenance window: weekdays (0 = Monday … 6 = Sunday) at a wall-clock time in
    its time zone, open for `duration_minutes` of elapsed time (apps.operations.windows)."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="maintenance_windows")
    name = models.CharField(max_length=80)
    weekdays = models.JSONField(default=list)  # sorted distinct ints 0–6
    start_time = models.TimeField()  # hour:minute, seconds are zero
    duration_minutes = models.PositiveIntegerField()  # 1 … 1440
    timezone = models.CharField(max_length=64, default="UTC")  # an IANA name, checked with zoneinfo
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    created_at = models.DateTimeField(default=django_now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="team_window_name")]

    def __str__(self):
        return self.name


class OperationSchedule(models.Model):
    """A rolling operation run in a window at each of its openings, by beat (`periodic_task`, one
    per schedule, kept in step by apps.operations.schedules). It runs as `created_by`: when that
    member can no longer operate, the run is refused and recorded."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="operation_schedules")
    app = models.ForeignKey("deployments.TeamApp", on_delete=models.CASCADE, related_name="schedules")
    window = models.ForeignKey(TeamWindow, on_delete=models.RESTRICT, related_name="schedules")  # kept while used; goes with its team
    operation = models.CharField(max_length=32)  # a non-destructive key of operations.OPERATIONS
    component = models.CharField(max_length=64, blank=True)  # "" for the whole app
    batch = models.PositiveSmallIntegerField(default=1)
    skip_failures = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    created_at = models.DateTimeField(default=django_now)
    periodic_task = models.OneToOneField("django_celery_beat.PeriodicTask", on_delete=models.SET_NULL,
                                         null=True, blank=True, related_name="+")
    last_job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["app__name", "id"]

    def __str__(self):
        return f"{self.operation} of app {self.app_id} in window {self.window_id}"
