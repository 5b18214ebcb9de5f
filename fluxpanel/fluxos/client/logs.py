"""Observability: container logs (one-shot, polled and followed), inspect, stats, top, changes."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator

from .addresses import component_name
from .health import shaped
from .streams import LogPoll, parse_log_poll
from .transport import _json_body


def millisecond_of(stamp: str) -> str:
    """The part of a docker RFC 3339 timestamp FluxOS keeps: `since` goes through
    `new Date(since).getTime() / 1000`, so everything below the millisecond is dropped."""
    head, dot, rest = stamp.partition(".")
    if not dot:
        return head.rstrip("Z")
    digits = ""
    for ch in rest:
        if not ch.isdigit():
            break
        digits += ch
    return f"{head}.{(digits + '000')[:3]}"


class LogFollower:
    """Which lines of a poll are new, given FluxOS's inclusive millisecond `since`.

    A poll with `since` = the last line's timestamp returns again every line of that millisecond
    (Docker's filter is inclusive and FluxOS truncates to ms). Lines are not unique: a container can
    write the same text twice in one millisecond, and both are lines. So the follower counts, per
    line text, how many copies of the boundary millisecond it has already yielded, and skips only
    that many; everything else is new.
    """

    def __init__(self, since: str | None = None):
        self.since = since
        self._boundary_ms = millisecond_of(since) if since else None
        self._seen = Counter()  # line -> copies already yielded in the boundary millisecond

    def fresh(self, logs: list[str]) -> list[str]:
        seen = Counter(self._seen)
        out = []
        for line in logs:
            if seen[line] > 0 and millisecond_of(LogPoll.split_timestamp(line)[0]) == self._boundary_ms:
                seen[line] -= 1
                continue
            out.append(line)
        if logs:
            last = LogPoll.split_timestamp(logs[-1])[0]
            boundary = millisecond_of(last)
            # The reply holds every line from `since` on, so the lines of the new boundary
            # millisecond in it are all the copies yielded so far (old and new ones).
            self._seen = Counter(line for line in logs
                                 if millisecond_of(LogPoll.split_timestamp(line)[0]) == boundary)
            self._boundary_ms = boundary
            self.since = last
        return out


class LogsMixin:
    def app_log(self, app: str, component: str | None = None, lines: int | str = "all") -> str:
        """Container log text (stdout+stderr, no timestamps). v4+ apps need the component."""
        return shaped(self._get("apps", "applog", component_name(component, app), lines, auth=True),
                      str, url=self.base_url, what="log")

    def poll_app_log(self, app: str, component: str | None = None, *, lines: int | str = 100,
                     since: str | None = None) -> LogPoll:
        """One log poll: timestamped lines since an RFC 3339 time (FluxOS's own reply shape)."""
        url = self.path_url("apps", "applogpolling", component_name(component, app), lines,
                            since or None)
        headers = self._headers(auth=True, per_user=False, content_type=None)
        response = self._fetch("GET", url, headers=headers, retry=True)
        return parse_log_poll(_json_body(response, url), url)

    def follow_app_log(self, app: str, component: str | None = None, *, since: str | None = None,
                       interval_s: float = 2.0, stop: threading.Event | None = None,
                       max_polls: int | None = None) -> Iterator[str]:
        """Yield new timestamped log lines as they appear, polling with `since` = the last seen
        timestamp; no line twice, none dropped (LogFollower). Ends when `stop` is set or after
        `max_polls`."""
        follower = LogFollower(since)
        polls = 0
        while not (stop and stop.is_set()) and (max_polls is None or polls < max_polls):
            poll = self.poll_app_log(app, component, lines="all", since=follower.since)
            polls += 1
            yield from follower.fresh(poll.logs)
            if max_polls is not None and polls >= max_polls:
                break
            if stop:
                stop.wait(interval_s)
            else:
                time.sleep(interval_s)

    def app_inspect(self, app: str, component: str | None = None) -> dict:
        """docker inspect of the container."""
        return shaped(self._get("apps", "appinspect", component_name(component, app), auth=True),
                      dict, url=self.base_url, what="inspect")

    def app_stats(self, app: str, component: str | None = None) -> dict:
        """docker stats (one shot) plus `disk_stats` and `nanoCpus`."""
        return shaped(self._get("apps", "appstats", component_name(component, app), auth=True),
                      dict, url=self.base_url, what="stats")

    def app_top(self, app: str, component: str | None = None) -> dict:
        """docker top: `{Titles, Processes}`."""
        return shaped(self._get("apps", "apptop", component_name(component, app), auth=True),
                      dict, url=self.base_url, what="top")

    def app_changes(self, app: str, component: str | None = None) -> list:
        """docker diff: `[{Path, Kind}]`."""
        return shaped(self._get("apps", "appchanges", component_name(component, app), auth=True),
                      list, url=self.base_url, what="changes")
