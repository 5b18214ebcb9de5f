"""Maintenance-window arithmetic with real zoneinfo times: inside or not, the next opening, the end
of the current opening, the beat crontab, across midnight, the week's end and DST change days."""
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from apps.operations import windows
from apps.operations.models import TeamWindow

BERLIN = ZoneInfo("Europe/Berlin")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def window(days, start, minutes, zone="UTC"):
    return TeamWindow(name="w", weekdays=list(days), start_time=start, duration_minutes=minutes, timezone=zone)


def at(*parts, zone=UTC):
    return datetime(*parts, tzinfo=zone)


OVERNIGHT = window([SUN], time(22, 0), 240)  # Sunday 22:00 → Monday 02:00


@pytest.mark.parametrize(("moment", "inside"), [
    (at(2026, 3, 1, 21, 59), False),  # 2026-03-01 is a Sunday
    (at(2026, 3, 1, 22, 0), True),  # the start is inside
    (at(2026, 3, 1, 23, 59), True),
    (at(2026, 3, 2, 0, 0), True),  # past midnight, into Monday: the week's end crossed
    (at(2026, 3, 2, 1, 59), True),
    (at(2026, 3, 2, 2, 0), False),  # the end is not
    (at(2026, 3, 2, 22, 30), False),  # Monday evening: not a window day
])
def test_it_knows_an_overnight_window_across_the_week_end(moment, inside):
    assert windows.is_inside(OVERNIGHT, moment) is inside


def test_it_ends_an_overnight_opening_the_next_morning():
    assert windows.current_end(OVERNIGHT, at(2026, 3, 2, 1, 0)) == at(2026, 3, 2, 2, 0)
    assert windows.current_end(OVERNIGHT, at(2026, 3, 2, 3, 0)) is None
    assert windows.last_end(OVERNIGHT, at(2026, 3, 2, 3, 0)) == at(2026, 3, 2, 2, 0)


def test_it_finds_the_next_opening_strictly_after():
    assert windows.next_start(OVERNIGHT, at(2026, 3, 2, 1, 0)) == at(2026, 3, 8, 22, 0)
    assert windows.next_start(OVERNIGHT, at(2026, 3, 1, 22, 0)) == at(2026, 3, 8, 22, 0)
    assert windows.next_start(OVERNIGHT, at(2026, 3, 1, 21, 59)) == at(2026, 3, 1, 22, 0)
    weekdays = window([MON, WED, FRI], time(3, 30), 60)
    assert windows.next_start(weekdays, at(2026, 3, 3, 12, 0)) == at(2026, 3, 4, 3, 30)  # Tue → Wed
    assert windows.next_start(weekdays, at(2026, 3, 6, 4, 0)) == at(2026, 3, 9, 3, 30)  # Fri → Mon


def test_it_reads_the_start_in_the_window_zone():
    berlin = window([MON], time(2, 0), 60, "Europe/Berlin")
    # Monday 02:00 in Berlin in winter (UTC+1) is Monday 01:00 UTC.
    assert windows.next_start(berlin, at(2026, 1, 1)) == at(2026, 1, 5, 2, 0, zone=BERLIN)
    assert windows.next_start(berlin, at(2026, 1, 1)).astimezone(UTC) == at(2026, 1, 5, 1, 0)
    assert windows.is_inside(berlin, at(2026, 1, 5, 1, 30)) and not windows.is_inside(berlin, at(2026, 1, 5, 2, 0))


def test_it_keeps_the_wall_clock_start_across_dst_in_berlin():
    nightly = window(range(7), time(22, 0), 240, "Europe/Berlin")
    before = windows.next_start(nightly, at(2026, 3, 28, 12, 0))  # Saturday, CET
    after = windows.next_start(nightly, at(2026, 3, 29, 12, 0))  # Sunday, the change day, CEST
    assert (before.astimezone(UTC), after.astimezone(UTC)) == (at(2026, 3, 28, 21, 0), at(2026, 3, 29, 20, 0))
    assert f"{before:%H:%M}" == f"{after:%H:%M}" == "22:00"


def test_it_opens_a_start_in_the_spring_forward_gap_when_the_clock_jumps():
    # 2026-03-29 02:00 CET the clocks go to 03:00 CEST: 02:30 never happens that night.
    gap = window([SUN], time(2, 30), 60, "Europe/Berlin")
    start = windows.next_start(gap, at(2026, 3, 28, 12, 0))
    assert start.astimezone(UTC) == at(2026, 3, 29, 1, 30)  # 02:30 CET is 03:30 CEST
    assert f"{start:%H:%M %Z}" == "03:30 CEST"
    assert windows.current_end(gap, at(2026, 3, 29, 2, 0)) == at(2026, 3, 29, 2, 30)  # 60 elapsed minutes


def test_it_lasts_the_elapsed_duration_over_the_fall_back_night():
    # 2026-10-25 03:00 CEST the clocks go back to 02:00 CET: that night has 25 hours.
    night = window([SAT], time(23, 0), 240, "Europe/Berlin")
    start = windows.next_start(night, at(2026, 10, 24, 12, 0))
    end = windows.current_end(night, start + timedelta(minutes=1))
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=4)  # elapsed, not wall clock
    assert (f"{start:%H:%M %Z}", f"{end:%H:%M %Z}") == ("23:00 CEST", "02:00 CET")
    assert windows.is_inside(night, at(2026, 10, 25, 0, 59)) and not windows.is_inside(night, at(2026, 10, 25, 1, 0))


def test_it_opens_an_ambiguous_start_at_its_first_occurrence():
    ambiguous = window([SUN], time(2, 30), 30, "Europe/Berlin")
    start = windows.next_start(ambiguous, at(2026, 10, 24, 12, 0))
    assert start.astimezone(UTC) == at(2026, 10, 25, 0, 30)  # 02:30 CEST, not 02:30 CET an hour later


def test_it_makes_the_crontab_in_the_window_zone_with_cron_weekdays():
    fields = windows.crontab(window([MON, SUN], time(22, 5), 60, "Europe/Berlin"))
    assert fields == {"minute": "5", "hour": "22", "day_of_week": "0,1", "day_of_month": "*",
                      "month_of_year": "*", "timezone": "Europe/Berlin"}
    assert windows.crontab(window([SAT], time(0, 0), 60))["day_of_week"] == "6"


@pytest.mark.parametrize("name", ["", "Europe", "europe/berlin", "Mars/Olympus", "../etc/passwd", "UTC "])
def test_it_refuses_a_bad_time_zone_name(name):
    assert "is not a time zone name" in windows.zone_error(name)


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/New_York"])
def test_it_accepts_a_time_zone_name(name):
    assert windows.zone_error(name) == ""


def test_it_describes_a_window_and_its_cadence():
    assert windows.describe(OVERNIGHT) == "Sun 22:00 for 4 h (UTC)"
    assert windows.describe(window([MON, THU], time(3, 0), 90, "Europe/Berlin")) == \
        "Mon, Thu 03:00 for 1 h 30 min (Europe/Berlin)"
    assert [windows.cadence(window(d, time(1, 0), 1)) for d in ([SUN], range(7), [MON, FRI])] == \
        ["weekly", "daily", "2× weekly"]


@pytest.mark.parametrize(("text", "expected"), [("22:00", time(22, 0)), ("7:05", time(7, 5)),
                                                ("24:00", None), ("12", None), ("ab:cd", None)])
def test_it_reads_a_clock_time(text, expected):
    assert windows.clock(text) == expected
