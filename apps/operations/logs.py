"""Merged logs of a team app across its instances and components (issue 15, item 4).

One *stream* per (instance, component). Each is followed with `/apps/applogpolling` and a
`LogFollower` (fluxpanel.fluxos.client.logs): FluxOS's `since` is inclusive at millisecond
precision, the follower drops exactly the copies of the boundary millisecond already shown. The
followers' state travels in the poll request as one signed token (django.core.signing, bound to the
app and the team): a changed or foreign token is refused (`CursorRefused`), never trusted.

Every node call is bounded (connect/read timeout, a total deadline, the answer size, at most
`PER_POLL_LINES` lines per poll) and the streams are asked in parallel in a bounded pool; a poll
waits at most `budget_s()` and a stream that has not answered by then, or failed, is marked
interrupted with `reasons.explain`'s words and keeps its cursor, so it resumes where it left off.

Reading logs is for viewers too: the panel reads them with the team's own credentials (the app
owner's authorisation, else a session on the instance's node), which the viewer never sees.
"""
from __future__ import annotations

import concurrent.futures
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.core import signing

from apps.accounts.models import Membership
from apps.nodes.clients import node_client
from fluxpanel.fluxos.client.logs import LogFollower
from fluxpanel.fluxos.client.reasons import explain

SALT = "operations.logs.cursor"
CURSOR_MAX_AGE_S = 24 * 3600
MAX_INSTANCES = 100
INITIAL_LINES = 100
INITIAL_TOTAL = 2000  # the first poll shows at most about this many lines in all
DOWNLOAD_LINES = 1000
PER_POLL_LINES = 1000
MAX_SEEN = 200  # boundary-millisecond lines kept per stream in the cursor
POOL = 100
MAX_BODY = 4 * 1024 * 1024
MAX_TEXT = 4000  # characters of one line shown


def budget_s() -> float:
    """How long one poll waits for the nodes (FluxOS itself collects ~1.5 s per log poll)."""
    return float(settings.OPERATIONS_LOG_POLL_BUDGET_S)


class CursorRefused(Exception):
    """The poll's cursor was not made by this panel for this app."""


class StreamCursor(LogFollower):
    """A LogFollower that can be written into and read back from the signed cursor."""

    def state(self) -> dict:
        seen = dict(list(self._seen.items())[:MAX_SEEN])
        return {"s": self.since, "b": self._boundary_ms, "n": seen}

    @classmethod
    def restore(cls, state) -> StreamCursor:
        if not isinstance(state, dict) or not isinstance(state.get("s"), (str, type(None))):
            raise CursorRefused("bad stream state")
        cursor = cls(state.get("s"))
        seen = state.get("n") or {}
        if not isinstance(seen, dict) or not all(isinstance(v, int) and v >= 0 for v in seen.values()):
            raise CursorRefused("bad stream state")
        if isinstance(state.get("b"), str):
            cursor._boundary_ms = state["b"]
        cursor._seen = Counter({str(k): v for k, v in seen.items()})
        return cursor


@dataclass
class Stream:
    key: str
    instance_id: int
    location: str
    node: str
    component: str  # the compose name; "" for a v1–3 app (one container, named after the app)
    base_url: str | None = None
    zelidauth: str | None = None
    problem: str = ""  # why it cannot be asked at all
    # After a poll (for the page): asked at all, why interrupted, a note such as lines skipped.
    state_known: bool = False
    state_reason: str = ""
    state_note: str = ""

    @property
    def label(self) -> str:
        return f"{self.node}/{self.component or '-'}"


@dataclass
class Line:
    stamp: str
    node: str
    component: str
    text: str
    key: str

    def as_text(self) -> str:
        return f"{self.stamp} [{self.node}/{self.component or '-'}] {self.text}"


@dataclass
class PollResult:
    lines: list[Line]
    cursor: str
    status: dict[str, str] = field(default_factory=dict)  # stream key -> "" (following) or reason
    notes: dict[str, str] = field(default_factory=dict)  # stream key -> e.g. lines skipped


def components_of(app) -> list[str]:
    compose = app.spec.get("compose") if isinstance(app.spec, dict) else None
    if isinstance(compose, list) and compose:
        return [str(c.get("name")) for c in compose if isinstance(c, dict) and c.get("name")][:20]
    return [""]


def streams_of(app, membership: Membership, *, instance: int | None = None,
               component: str | None = None) -> list[Stream]:
    from apps.deployments.sources import location_url
    from apps.wallets.node_sessions import app_owner_zelidauth, zelidauth_for

    # Logs are read-only: viewers read them with the team's credentials, which never leave the server.
    owner_auth = app_owner_zelidauth(membership, app.owner, read_only=True) if app.owner else None
    instances = app.instances.select_related("node").order_by("location", "pk")
    if instance is not None:
        instances = instances.filter(pk=instance)
    names = [c for c in components_of(app) if component in (None, c)]
    streams = []
    for row in instances[:MAX_INSTANCES]:
        node = row.node.name if row.node_id else row.location
        try:
            base_url, problem = location_url(row.location), ""
        except ValueError:
            base_url, problem = None, "not a node address"
        auth = owner_auth
        if auth is None and row.node_id:
            auth = zelidauth_for(row.node, membership, read_only=True)
        if auth is None and not problem:
            problem = "the team holds no app-owner authorisation and no session on this node"
        for name in names:
            streams.append(Stream(f"{row.pk}:{name}", row.pk, row.location, node, name, base_url,
                                  auth, problem))
    return streams


def sign_cursor(app, state: dict, down: dict) -> str:
    return signing.dumps({"a": app.pk, "t": app.team_id, "c": state, "d": down}, salt=SALT, compress=True)


def open_cursor(app, token: str) -> tuple[dict, dict]:
    try:
        data = signing.loads(token, salt=SALT, max_age=CURSOR_MAX_AGE_S)
    except signing.BadSignature as exc:
        raise CursorRefused("the cursor is not this panel's") from exc
    if not isinstance(data, dict) or data.get("a") != app.pk or data.get("t") != app.team_id:
        raise CursorRefused("the cursor is for another app")
    state, down = data.get("c"), data.get("d")
    if not isinstance(state, dict) or not isinstance(down, dict):
        raise CursorRefused("bad cursor")
    return state, down


def _now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _ask(app_name: str, stream: Stream, follower: StreamCursor, lines) -> tuple[list[str], bool]:
    client = node_client(stream.base_url, zelidauth=stream.zelidauth, timeout=(3.05, budget_s()),
                         deadline_s=budget_s(), max_body=MAX_BODY)
    poll = client.poll_app_log(app_name, stream.component or None, lines=lines, since=follower.since)
    return follower.fresh(poll.logs), poll.truncated and follower.since is not None


def poll(app, streams: list[Stream], token: str | None, *, first_lines: int | None = None,
         text: str = "") -> PollResult:
    """Ask every stream for its new lines; merge them in time order; the next cursor. A stream
    without a cursor yet starts with its last `first_lines` lines (by default INITIAL_LINES, fewer
    when there are many streams, so the first view stays about INITIAL_TOTAL lines)."""
    if first_lines is None:
        first_lines = max(10, min(INITIAL_LINES, INITIAL_TOTAL // max(1, len(streams))))
    state, down = open_cursor(app, token) if token else ({}, {})
    followers = {s.key: StreamCursor.restore(state[s.key]) if s.key in state else None for s in streams}
    result_state = {k: v for k, v in state.items() if k not in followers}  # filtered-out streams
    status, notes, lines = {}, {}, []
    jobs = {}
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(POOL, len(streams))))
    try:
        for stream in streams:
            if stream.problem:
                status[stream.key] = stream.problem
                continue
            follower = followers[stream.key]
            fresh = follower is None
            if fresh:
                follower = followers[stream.key] = StreamCursor(None)
            jobs[pool.submit(_ask, app.name, stream, follower, first_lines if fresh else PER_POLL_LINES)] = (
                stream, follower, fresh)
        done, _ = concurrent.futures.wait(jobs, timeout=budget_s() + 0.5)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    new_down = {}
    for future, (stream, follower, fresh) in jobs.items():
        reason = None
        if future in done:
            try:
                got, truncated = future.result()
            except Exception as exc:  # noqa: BLE001 - every failure of a node becomes its reason
                reason = str(explain(exc))
            else:
                if truncated:
                    notes[stream.key] = f"more than {PER_POLL_LINES} new lines: older ones skipped"
                for raw in got:
                    stamp, _, body = raw.partition(" ")
                    lines.append(Line(stamp, stream.node, stream.component, body[:MAX_TEXT], stream.key))
        else:
            reason = f"no answer within {budget_s():g} s"
        if reason is not None:
            new_down[stream.key] = reason
            if fresh:  # never reached: follow from now on, so nothing after this poll is lost
                follower = StreamCursor(_now_stamp())
            else:
                follower = StreamCursor.restore(state[stream.key])
        status.setdefault(stream.key, new_down.get(stream.key, ""))
        result_state[stream.key] = follower.state()
    for stream in streams:
        stream.state_known = stream.key in status
        stream.state_reason, stream.state_note = status.get(stream.key, ""), notes.get(stream.key, "")
    lines.sort(key=lambda line: line.stamp)
    if text:
        needle = text.lower()
        lines = [line for line in lines if needle in line.text.lower()]
    return PollResult(lines, sign_cursor(app, result_state, new_down), status, notes)
