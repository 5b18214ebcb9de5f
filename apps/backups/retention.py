"""Which of a schedule's backups its retention keeps, as plain arithmetic (no database).

`keep(backups, policy, now)` takes (id, created_at, verified) triples and any object with
`keep_last`, `keep_daily`, `keep_weekly`, `keep_monthly` (a BackupSchedule; 0 = that rule keeps
none) and, optionally, `timezone` (an IANA name, UTC without it). It returns the ids to keep; the
caller prunes the others. The rules, the grandfather-father-son ones as restic and borg define
their `--keep-*` options:

1. Only verified backups count towards the rules. A backup that is not verified (failed, or stored
   but never read back) is kept by no rule, so it is pruned once it is past the grace period.
2. Backups younger than `grace` (created less than that before `now`, or dated after `now`) are
   never touched, whatever they are: one may still be stored or verified right now.
3. keep_last N: the N newest verified backups.
4. keep_daily D: walking the verified backups from the newest, the newest one of each calendar day
   (in the policy's time zone) until D days have one; days without a verified backup do not count,
   so "7 daily" over a week with a gap reaches back to the 7th day that has a backup.
5. keep_weekly W: the same over ISO weeks (Monday to Sunday, ISO week-numbering year).
6. keep_monthly M: the same over calendar months.
7. The newest verified backup is always kept, even when every rule keeps none.

A backup kept by several rules is kept once; the rules do not consume one another's periods.
Ties in `created_at` are broken by the larger id (the later row), so the result is deterministic.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

# Longer than a backup's store-and-verify takes in practice; a row still in that state is left alone.
GRACE = timedelta(hours=6)


class Candidate(NamedTuple):
    id: int
    created_at: datetime
    verified: bool


def _newest_per_period(verified: list[Candidate], count: int, period: Callable[[datetime], tuple]) -> set[int]:
    """The newest backup of each of the `count` newest periods that hold one (`verified` is newest first)."""
    kept: set[int] = set()
    seen: set[tuple] = set()
    if count <= 0:
        return kept
    for backup in verified:
        key = period(backup.created_at)
        if key in seen:
            continue
        seen.add(key)
        kept.add(backup.id)
        if len(seen) >= count:
            break
    return kept


def keep(backups: Iterable, policy, now: datetime, *, grace: timedelta = GRACE) -> set[int]:
    """The ids of `backups` ((id, created_at, verified) triples) that `policy` keeps at `now`."""
    zone = ZoneInfo(getattr(policy, "timezone", "") or "UTC")
    rows = [Candidate(*row) for row in backups]
    kept = {row.id for row in rows if row.created_at > now - grace}
    verified = sorted((row for row in rows if row.verified), key=lambda r: (r.created_at.astimezone(UTC), r.id),
                      reverse=True)
    if not verified:
        return kept
    kept.add(verified[0].id)
    kept |= {row.id for row in verified[:max(0, int(policy.keep_last or 0))]}

    def local(moment: datetime) -> datetime:
        return moment.astimezone(zone)

    def day(moment):
        return (local(moment).date(),)

    def week(moment):
        return tuple(local(moment).isocalendar()[:2])

    def month(moment):
        return (local(moment).year, local(moment).month)

    kept |= _newest_per_period(verified, int(policy.keep_daily or 0), day)
    kept |= _newest_per_period(verified, int(policy.keep_weekly or 0), week)
    kept |= _newest_per_period(verified, int(policy.keep_monthly or 0), month)
    return kept
