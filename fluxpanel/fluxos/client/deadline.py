"""A total deadline per call: connect, headers and the whole body within a fixed time.

Socket timeouts only bound *one* read: a node that sends one byte every two seconds never trips
a 15 s read timeout and would hold a sweep thread for ever (issue 10 F5). Body reads check the
deadline between their bytes (netguard.read_capped), but the status line and headers are read
inside http.client, out of reach. So every connection used under a deadline is registered with
one watchdog thread, which shuts the socket down when the deadline passes: the blocked read
returns at once and the client reports "no complete answer after N s".
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time

from fluxpanel.netguard import GuardedAdapter

_local = threading.local()


class _Arm:
    """One registration: the connection to cut when `at` (time.monotonic()) passes."""

    __slots__ = ("at", "conn", "cancelled", "fired")

    def __init__(self, at: float):
        self.at = at
        self.conn = None
        self.cancelled = False
        self.fired = False


class _Watchdog:
    """One daemon thread and a heap of armed deadlines (cheap to arm and cancel)."""

    def __init__(self):
        self._heap: list = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, at: float) -> _Arm:
        entry = _Arm(at)
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="fluxos-deadline",
                                                daemon=True)
                self._thread.start()
            first = not self._heap or at < self._heap[0][0]
            heapq.heappush(self._heap, (at, next(self._order), entry))
            if first:
                self._cond.notify()
        return entry

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                at, _, entry = self._heap[0]
                delay = at - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
            if not entry.cancelled:
                _cut(entry)


def _cut(entry: _Arm) -> None:
    entry.fired = True
    sock = getattr(entry.conn, "sock", None)
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)  # unblocks a recv in another thread, unlike close()
    except OSError:
        pass


_WATCHDOG = _Watchdog()


class CallDeadline:
    """Context for one call: connections opened or reused inside it are cut at `at`."""

    def __init__(self, at: float | None):
        self.at = at
        self._arm: _Arm | None = None

    def __enter__(self) -> CallDeadline:
        if self.at is not None:
            self._arm = _WATCHDOG.arm(self.at)
        self._previous = getattr(_local, "arm", None)
        _local.arm = self._arm
        return self

    def __exit__(self, *exc_info) -> None:
        _local.arm = self._previous
        if self._arm is not None:
            self._arm.cancelled = True

    @property
    def fired(self) -> bool:
        return bool(self._arm and self._arm.fired) or (
            self.at is not None and time.monotonic() >= self.at)

    def remaining(self) -> float | None:
        return None if self.at is None else max(0.001, self.at - time.monotonic())


_WATCHED: dict = {}


def _watched_pool(base):
    """A pool class that hands the connection of each request to the current call's deadline."""
    if base in _WATCHED:
        return _WATCHED[base]

    def _make_request(self, conn, *args, **kwargs):
        arm = getattr(_local, "arm", None)
        if arm is not None:
            arm.conn = conn
            if arm.fired or time.monotonic() >= arm.at:
                _cut(arm)
        return base._make_request(self, conn, *args, **kwargs)

    watched = _WATCHED[base] = type(f"Deadline{base.__name__}", (base,),
                                    {"_make_request": _make_request})
    return watched


class DeadlineAdapter(GuardedAdapter):
    """netguard's checked and pinned connections, plus the per-call deadline watchdog."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        manager = self.poolmanager
        manager.pool_classes_by_scheme = {scheme: _watched_pool(cls) for scheme, cls
                                          in manager.pool_classes_by_scheme.items()}
