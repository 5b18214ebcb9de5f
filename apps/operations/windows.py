"""A team's maintenance windows as time arithmetic, without the database (issue 15 item 3).

A window opens on some weekdays (0 = Monday … 6 = Sunday, Python's `weekday()`) at a wall-clock time
in its own time zone and stays open for a duration in *elapsed* minutes (at most a day). So a window
may run past midnight and past the week's end (Sunday 22:00 for 4 hours ends Monday 02:00), and on
a DST change day it lasts as long as on any other day while its local end moves by the hour.
A start that falls into a spring-forward gap opens when the clock jumps (02:30 does not exist in
Europe/Berlin on the last Sunday of March: it opens at 03:00 CEST, the moment 02:30 CET would
be); a start in a fall-back hour opens at its first occurrence (zoneinfo's fold=0).

Every function takes any object with `weekdays`, `start_time`, `duration_minutes` and `timezone`
(a TeamWindow, saved or not) and explicit aware datetimes, so tests use real arithmetic.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

MAX_DURATION_MINUTES = 24 * 60
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Occurrence:
    # In UTC: Python compares and subtracts two datetimes of the same zone by their wall clocks,
    # which is wrong across a DST change. Public functions hand them out in the window's zone.
    start: datetime
    end: datetime


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_error(name: str) -> str:
    """Why `name` is not a time zone ("" when it is). ZoneInfo alone would accept a folder of the
    database ("Europe") until first use, so the name must be one of the database's zones."""
    if not name or name not in _zone_names():
        return f"“{name}” is not a time zone name (such as Europe/Berlin or UTC)."
    return ""


def zone(window) -> ZoneInfo:
    return ZoneInfo(window.timezone)


def _occurrence_on(window, day: date) -> Occurrence | None:
    """The window's opening on `day` (a local date), if it opens that day. A wall-clock time inside
    a DST gap names the moment it would have been (zoneinfo's fold=0 offset, through UTC)."""
    if day.weekday() not in set(window.weekdays):
        return None
    naive = datetime.combine(day, window.start_time.replace(second=0, microsecond=0))
    start = naive.replace(tzinfo=zone(window)).astimezone(UTC)
    return Occurrence(start, start + timedelta(minutes=window.duration_minutes))


def _local(window, moment: datetime | None) -> datetime | None:
    return moment.astimezone(zone(window)) if moment is not None else None


def current(window, now: datetime) -> Occurrence | None:
    """The occurrence `now` is inside (start included, end excluded), else None. With at most a day
    of duration only an opening of today or the two days before can still be open."""
    today = now.astimezone(zone(window)).date()
    now = now.astimezone(UTC)
    for back in range(3):
        occurrence = _occurrence_on(window, today - timedelta(days=back))
        if occurrence is not None and occurrence.start <= now < occurrence.end:
            return Occurrence(_local(window, occurrence.start), _local(window, occurrence.end))
    return None


def is_inside(window, now: datetime) -> bool:
    return current(window, now) is not None


def current_end(window, now: datetime) -> datetime | None:
    """When the occurrence `now` is inside closes, else None."""
    occurrence = current(window, now)
    return occurrence.end if occurrence is not None else None


def next_start(window, after: datetime) -> datetime | None:
    """The first opening strictly after `after`, in the window's zone (None without weekdays)."""
    day = after.astimezone(zone(window)).date()
    after = after.astimezone(UTC)
    for ahead in range(9):  # a week, plus the day before and after for the zone's offset
        occurrence = _occurrence_on(window, day + timedelta(days=ahead - 1))
        if occurrence is not None and occurrence.start > after:
            return _local(window, occurrence.start)
    return None


def last_end(window, now: datetime) -> datetime | None:
    """When the latest occurrence that opened at or before `now` closed (or will close)."""
    day = now.astimezone(zone(window)).date()
    now = now.astimezone(UTC)
    for back in range(9):
        occurrence = _occurrence_on(window, day - timedelta(days=back))
        if occurrence is not None and occurrence.start <= now:
            return _local(window, occurrence.end)
    return None


def crontab(window) -> dict:
    """The beat crontab (django-celery-beat CrontabSchedule fields) firing at each opening, read in
    the window's zone. Cron counts weekdays from Sunday = 0, Python from Monday = 0."""
    days = sorted((day + 1) % 7 for day in set(window.weekdays))
    return {"minute": str(window.start_time.minute), "hour": str(window.start_time.hour),
            "day_of_week": ",".join(str(d) for d in days) or "*", "day_of_month": "*",
            "month_of_year": "*", "timezone": window.timezone}


def describe(window) -> str:
    """"Mon, Thu 22:00 for 4 h (Europe/Berlin)"."""
    days = ", ".join(WEEKDAY_NAMES[d] for d in sorted(set(window.weekdays))) or "no day"
    hours, minutes = divmod(window.duration_minutes, 60)
    length = " ".join(part for part in (f"{hours} h" if hours else "", f"{minutes} min" if minutes else "") if part)
    return f"{days} {window.start_time:%H:%M} for {length} ({window.timezone})"


def clock(time_text: str) -> time | None:
    """"22:00" → time(22, 0); anything else → None."""
    try:
        hour, minute = (int(part) for part in time_text.strip().split(":"))
    except (ValueError, AttributeError):
        return None
    return time(hour, minute) if 0 <= hour < 24 and 0 <= minute < 60 else None


def cadence(window) -> str:
    """"daily", "weekly" or "3× weekly": how often the window opens."""
    count = len(set(window.weekdays))
    return {7: "daily", 1: "weekly"}.get(count, f"{count}× weekly")
