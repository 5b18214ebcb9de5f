"""Helpers of the live-update tests: a real Subscriber on a thread of the test process (its own
database connections, so the tests that use it are transactional), and waiting for its copy."""
from __future__ import annotations

import threading

from apps.worldstate.models import EngineLive, LiveEntity
from apps.worldstate.subscriber import Subscriber
from tests.integration.worldstate.conftest import wait_for


class RunningSubscriber:
    def __init__(self, holder: str | None = None):
        self.subscriber = Subscriber(holder)
        self.thread = threading.Thread(target=self.subscriber.run, name="test-subscriber",
                                       daemon=True)

    def __enter__(self) -> Subscriber:
        self.thread.start()
        return self.subscriber

    def __exit__(self, *_exc) -> None:
        self.subscriber.stop()
        self.thread.join(15)
        assert not self.thread.is_alive(), "the subscriber did not stop"


def live_state(engine) -> EngineLive | None:
    return EngineLive.objects.filter(engine=engine).first()


def live_reason(engine) -> str:
    """The engine's live-update reason, "" until the subscriber has written its first row."""
    row = live_state(engine)
    return (row.reason or "") if row else ""


def wait_live(engine, timeout: float = 10.0) -> EngineLive:
    return wait_for(lambda: (row := live_state(engine)) and row.state == "live" and row, timeout)


def copied(engine, entity_id: str) -> dict | None:
    row = LiveEntity.objects.filter(engine=engine, entity_id=entity_id).first()
    return row.properties if row else None
