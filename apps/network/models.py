"""Network-wide figures from the Flux stats API (one cached row per API URL) and the team's own
daily fleet counts (for the "versions over time" picture)."""
from __future__ import annotations

from django.db import models
from django.utils import timezone


class NetworkStats(models.Model):
    """What the stats API said last time it gave a usable answer, and how the last try went.

    `figures` is `parse.Figures.as_json()`; it is only replaced by a valid answer, so a failed or
    garbage answer leaves the previous figures in place with `stale` and the reason.
    """

    api_url = models.CharField(max_length=300, unique=True)
    figures = models.JSONField(default=dict, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)  # last usable answer
    checked_at = models.DateTimeField(null=True, blank=True)  # last try, usable or not
    refreshing_since = models.DateTimeField(null=True, blank=True)  # the refresh lease
    stale = models.BooleanField(default=False)
    reason = models.CharField(max_length=300, blank=True)
    reason_detail = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"network stats from {self.api_url}"


class FleetDay(models.Model):
    """A team's fleet counted once a day: nodes per state and per FluxOS version."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(default=timezone.localdate)
    states = models.JSONField(default=dict)
    versions = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "day"], name="network_fleetday_team_day")]
        indexes = [models.Index(fields=["team", "-day"], name="network_fleetday_recent")]

    def __str__(self) -> str:
        return f"fleet of team {self.team_id} on {self.day}"
