"""Retention as plain arithmetic: a simulated year of daily backups (some days twice, a few failed
or never verified) against last 7 / daily 14 / weekly 8 / monthly 12, with the kept set written out
as the dates the rules name; the newest verified backup survives all-zero rules; failures go."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from apps.backups.retention import GRACE, keep

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
# Not verified: a failed extra run on the last day, failed runs on two Sundays, one stored but
# never read back on the last day of June.
UNVERIFIED = {(12, 31, 15), (12, 28, 3), (11, 30, 3), (6, 30, 3)}


def policy(last=0, daily=0, weekly=0, monthly=0, zone="UTC"):
    return SimpleNamespace(keep_last=last, keep_daily=daily, keep_weekly=weekly, keep_monthly=monthly,
                           timezone=zone)


def year() -> dict[tuple, tuple]:
    """(month, day, hour) -> (id, created_at, verified): every day of 2025 at 03:00 UTC, and again
    at 15:00 on every tenth day of the year (day 10, 20, … 360), plus the failed extra of Dec 31."""
    rows = {}
    day = date(2025, 1, 1)
    while day.year == 2025:
        hours = [3] + ([15] if day.timetuple().tm_yday % 10 == 0 else [])
        for hour in hours:
            rows[(day.month, day.day, hour)] = None
        day += timedelta(days=1)
    rows[(12, 31, 15)] = None
    for number, key in enumerate(sorted(rows), start=1):
        month, day_, hour = key
        rows[key] = (number, datetime(2025, month, day_, hour, tzinfo=UTC), key not in UNVERIFIED)
    return rows


def ids(rows, keys) -> set[int]:
    return {rows[key][0] for key in keys}


def test_it_keeps_exactly_what_the_rules_name_over_a_year():
    rows = year()
    assert len(rows) == 365 + 36 + 1
    kept = keep(rows.values(), policy(last=7, daily=14, weekly=8, monthly=12), NOW)
    # last 7 verified: Dec 28 failed, Dec 26 has two.
    last = [(12, 31, 3), (12, 30, 3), (12, 29, 3), (12, 27, 3), (12, 26, 15), (12, 26, 3), (12, 25, 3)]
    # 14 days that have a verified backup, newest of each: Dec 28 has none, so back to Dec 17.
    daily = [(12, d, 3) for d in (31, 30, 29, 27, 25, 24, 23, 22, 21, 20, 19, 18, 17)] + [(12, 26, 15)]
    # 8 ISO weeks (Mon–Sun): Dec 29–31 (week 1 of 2026), Dec 22–28 (Sunday failed: Saturday),
    # Dec 15–21, Dec 8–14, Dec 1–7, Nov 24–30 (Sunday failed: Saturday), Nov 17–23, and Nov 10–16
    # whose Sunday Nov 16 is day 320 of the year, so its 15:00 run.
    weekly = [(12, 31, 3), (12, 27, 3), (12, 21, 3), (12, 14, 3), (12, 7, 3), (11, 29, 3), (11, 23, 3),
              (11, 16, 15)]
    # 12 months, newest of each: Nov 30 failed, Jun 30 never verified, Jun 29 (day 180), Apr 30
    # (day 120) and Mar 31 (day 90) had a second run at 15:00.
    monthly = [(12, 31, 3), (11, 29, 3), (10, 31, 3), (9, 30, 3), (8, 31, 3), (7, 31, 3), (6, 29, 15),
               (5, 31, 3), (4, 30, 15), (3, 31, 15), (2, 28, 3), (1, 31, 3)]
    assert kept == ids(rows, last + daily + weekly + monthly)
    # 14 days plus Dec 26's earlier run; weekly adds 5 (Dec 21 is a daily), monthly 10 (Dec 31, Nov 29 kept).
    assert len(kept) == 15 + 5 + 10
    assert not kept & ids(rows, UNVERIFIED)


def test_it_keeps_the_newest_verified_even_when_every_rule_keeps_none():
    rows = year()
    kept = keep(rows.values(), policy(), NOW)
    assert kept == ids(rows, [(12, 31, 3)])  # the newest row (15:00) failed: it goes


def test_it_prunes_every_failure_but_never_touches_a_young_one():
    rows = list(year().values())
    young_failed = (9001, NOW - GRACE + timedelta(minutes=5), False)
    running_late = (9002, NOW + timedelta(minutes=1), False)  # a clock a little ahead
    kept = keep(rows + [young_failed, running_late], policy(last=1000), NOW)
    assert {9001, 9002} <= kept
    assert kept == {row[0] for row in rows if row[2]} | {9001, 9002}


def test_it_counts_days_in_the_schedule_time_zone():
    # 23:30 UTC on Mar 1 is 00:30 on Mar 2 in Berlin: in UTC two backups share Mar 1, in Berlin not.
    rows = [(1, datetime(2025, 3, 1, 8, 0, tzinfo=UTC), True), (2, datetime(2025, 3, 1, 23, 30, tzinfo=UTC), True)]
    now = datetime(2025, 3, 5, tzinfo=UTC)
    assert keep(rows, policy(daily=2), now) == {2}
    assert keep(rows, policy(daily=2, zone="Europe/Berlin"), now) == {1, 2}


def test_it_counts_only_periods_that_have_a_verified_backup():
    # Three verified backups months apart: "3 daily" reaches back to all three days.
    rows = [(n, datetime(2025, m, 1, tzinfo=UTC), True) for n, m in ((1, 1), (2, 5), (3, 9))]
    rows.append((4, datetime(2025, 10, 1, tzinfo=UTC), False))
    assert keep(rows, policy(daily=3), datetime(2025, 12, 1, tzinfo=UTC)) == {1, 2, 3}
