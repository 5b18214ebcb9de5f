"""Sends one raw request as a persona and records any 5xx with the exception behind it."""
from __future__ import annotations

import json
import os
import sys
import traceback
from dataclasses import dataclass

from django.core.signals import got_request_exception
from django.db import transaction
from django.test import Client

from tests.fuzz.surface import REPO
from tests.fuzz.values import Body

PERSONAS = ("anonymous", "viewer", "manager")


@dataclass
class Failure:
    repro: str
    status: int
    exc_type: str
    where: str  # file:line of the last project frame, the one to fix
    raised_at: str  # the innermost frame (maybe inside Django or a library)
    trace: str


def _frame_label(frame) -> str:
    name = frame.filename
    for root in (str(REPO) + "/", "/site-packages/", "/lib/python3.11/"):
        if root in name:
            name = name.split(root, 1)[1]
    return f"{name}:{frame.lineno} ({frame.name})"


def failure_from(exc_info, repro: str, status: int, module: str) -> Failure:
    if exc_info is None:  # a view that answered 5xx on purpose
        return Failure(repro, status, f"HTTP {status}", module, module, "")
    exc_type, exc, tb = exc_info
    frames = traceback.extract_tb(tb)
    ours = [f for f in frames if f.filename.startswith(str(REPO)) and "/.venv/" not in f.filename]
    return Failure(
        repro, status, exc_type.__name__,
        _frame_label(ours[-1]) if ours else _frame_label(frames[-1]),
        _frame_label(frames[-1]),
        "".join(traceback.format_exception(exc_type, exc, tb, limit=-6))[-2500:],
    )


class Requester:
    """One signed-in client per persona; each request runs in a savepoint that is rolled back
    afterwards and the client's cookies are restored, so every request sees the same world (a
    fuzzed delete or sign-out does not starve the next one)."""

    def __init__(self, world, route):
        self.route = route
        self.failures: dict[tuple[str, str], Failure] = {}
        self.count = 0
        self._exc_info = None
        self.last_failure: tuple[str, str] | None = None
        self.clients = {}
        for persona in PERSONAS:
            client = Client(raise_request_exception=False)
            if persona != "anonymous":
                client.force_login(world.users[persona])
            self.clients[persona] = (client, {key: morsel.value for key, morsel in client.cookies.items()})

    def __enter__(self):
        got_request_exception.connect(self._on_exception)
        return self

    def __exit__(self, *exc):
        got_request_exception.disconnect(self._on_exception)

    def _on_exception(self, sender, request=None, **kwargs):
        self._exc_info = sys.exc_info()

    def send(self, persona: str, method: str, path: str, query: str = "", body: Body | None = None,
             htmx: bool = False, note: str = "") -> int:
        body = body or Body("empty", "", b"")
        client, cookies = self.clients[persona]
        client.cookies.clear()
        for key, value in cookies.items():
            client.cookies[key] = value
        self._exc_info = None
        self.last_failure = None
        self.count += 1
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        with transaction.atomic():
            response = client.generic(method, path + (f"?{query}" if query else ""), data=body.data,
                                      content_type=body.content_type, **headers)
            transaction.set_rollback(True)
        if response.status_code >= 500:
            repro = (f"{persona} {method} {path}{'?' + query[:200] if query else ''}"
                     f"{' [HX-Request]' if htmx else ''} body={body.describe()}{note}")
            failure = failure_from(self._exc_info, repro, response.status_code, self.route.module)
            self.last_failure = (failure.exc_type, failure.where)
            if self.last_failure not in self.failures or len(repro) < len(self.failures[self.last_failure].repro):
                self.failures[self.last_failure] = failure  # keep the shortest reproduction
        return response.status_code

    def report(self) -> str:
        lines = [f"{self.route.name}: {len(self.failures)} distinct cause(s) of 5xx "
                 f"in {self.count} requests"]
        sink = os.environ.get("FUZZ_REPORT")
        for failure in self.failures.values():
            lines += [f"- {failure.exc_type} at {failure.where} (raised in {failure.raised_at})",
                      f"  repro: {failure.repro}", "  " + failure.trace.replace("\n", "\n  ")]
            if sink:
                with open(sink, "a") as out:
                    out.write(json.dumps({"route": self.route.name, **failure.__dict__}) + "\n")
        return "\n".join(lines)
