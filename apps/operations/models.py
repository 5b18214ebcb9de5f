"""What the operations pages keep between requests.

`StatsSample`: one reading of one component on one instance, taken by the Stats page while someone
watches it (FluxOS's own monitor history route is broken in this FluxOS version, see the
reference §7.3), so the last hour can be drawn. Samples older than `OPERATIONS_STATS_KEEP_S` are
deleted as new ones are written. Counters (CPU time, network and block bytes) are kept as FluxOS
reports them, cumulative; the chart draws the rate between two samples.
"""
from __future__ import annotations

from django.db import models
from django.utils import timezone


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
