"""The subscriber process (`manage.py worldstate_subscribe`): one WebSocket subscription per
registered engine, feeding the panel's copy (apps/worldstate/live_store.py).

- Leases: every beat (a third of WORLDSTATE_LEASE_SECONDS) the main loop claims or renews each
  engine's lease; an engine whose lease another subscriber holds is left alone, so running two
  copies is safe, and a killed subscriber's engines are taken over once its beat is older than
  the lease time.
- One thread per held engine: connect (through Engine.client(), i.e. fluxpanel.netguard), then
  resync the copy from the REST listing (what a disconnect may have hidden; messages arriving
  meanwhile wait in the socket), then apply messages in small batches as they come.
- Faults (refused, closed, garbage, stalled, too large): the engine's EngineLive row gets a human
  reason, the thread backs off (doubling up to WORLDSTATE_BACKOFF_MAX_SECONDS, back to the start
  after a connection that stayed up a while) and the other engines' threads never notice.
"""
from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone

from apps.worldstate import live_store
from apps.worldstate.client import Subscription, WorldStateError
from apps.worldstate.models import Engine, EngineLive, SubscriberHeartbeat

log = logging.getLogger(__name__)

BACKOFF_START_S = 0.25
STABLE_CONNECTION_S = 5.0  # a connection up this long resets the backoff
BATCH_MAX = 500  # messages applied in one transaction at most
LISTING_TIMEOUT_S = 15.0


def identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class EngineRunner(threading.Thread):
    """Keeps one engine's subscription alive while the lease is ours."""

    def __init__(self, engine_id: int, holder: str):
        super().__init__(name=f"worldstate-engine-{engine_id}", daemon=True)
        self.engine_id = engine_id
        self.holder = holder
        self.stopping = threading.Event()
        self.subscription: Subscription | None = None
        self.base_url = ""

    def stop(self) -> None:
        self.stopping.set()
        subscription = self.subscription
        if subscription is not None:
            subscription.abort()  # wakes the thread blocked in recv

    def run(self) -> None:
        delay = BACKOFF_START_S
        try:
            while not self.stopping.is_set():
                started = time.monotonic()
                try:
                    reason = self.session()
                except live_store.LeaseLost:
                    return
                except WorldStateError as error:
                    reason = str(error)
                except DatabaseError as error:
                    log.warning("engine %s: database error: %s", self.engine_id, error)
                    reason = f"The panel's database failed ({type(error).__name__})."
                    connections.close_all()
                except Exception as error:  # one engine's surprise never ends the process
                    log.exception("engine %s: unexpected failure", self.engine_id)
                    reason = f"unexpected failure in the panel ({type(error).__name__})"
                if self.stopping.is_set():
                    return
                if time.monotonic() - started >= STABLE_CONNECTION_S:
                    delay = BACKOFF_START_S
                wait = delay * random.uniform(0.8, 1.2)
                log.info("engine %s: %s; reconnecting in %.1f s", self.engine_id, reason, wait)
                try:
                    live_store.set_state(self.engine_id, self.holder, EngineLive.State.RETRYING,
                                         reason=f"{reason} Retrying in {wait:.0f} s."
                                         if wait >= 1 else f"{reason} Retrying.")
                except live_store.LeaseLost:
                    return
                except DatabaseError:
                    connections.close_all()
                self.stopping.wait(wait)
                delay = min(delay * 2, float(settings.WORLDSTATE_BACKOFF_MAX_SECONDS))
        finally:
            connections.close_all()

    def session(self) -> str:
        """One connection: open, resync, stream. Returns (or raises) why it ended."""
        close_old_connections()
        engine = Engine.objects.filter(pk=self.engine_id).first()
        if engine is None:
            self.stopping.set()
            return "the engine was removed"
        self.base_url = engine.base_url
        live_store.set_state(self.engine_id, self.holder, EngineLive.State.CONNECTING)
        client = engine.client(timeout=LISTING_TIMEOUT_S)
        subscription = client.subscribe(silence=float(settings.WORLDSTATE_SILENCE_SECONDS))
        self.subscription = subscription
        try:
            if self.stopping.is_set():
                return "stopping"
            # Subscribed first, listed second: an update between the two waits in the socket
            # and is applied after the listing, so nothing falls in the gap.
            live_store.resync(self.engine_id, self.holder, client.entity_rows())
            live_store.set_state(self.engine_id, self.holder, EngineLive.State.LIVE,
                                 connected=True)
            while not self.stopping.is_set():
                batch = [next(subscription)]
                while len(batch) < BATCH_MAX and subscription.pending():
                    batch.append(next(subscription))
                live_store.apply_messages(self.engine_id, self.holder, batch)
        except StopIteration:
            return "The engine closed the live connection."
        finally:
            self.subscription = None
            subscription.close()
        return "stopping"


class Subscriber:
    """The process: heartbeat, leases, one EngineRunner per engine it holds."""

    def __init__(self, holder: str | None = None):
        self.holder = holder or identity()
        self.runners: dict[int, EngineRunner] = {}
        self.stopping = threading.Event()

    def beat_seconds(self) -> float:
        return max(settings.WORLDSTATE_LEASE_SECONDS / 3, 0.2)

    def run(self) -> None:
        SubscriberHeartbeat.objects.create(identity=self.holder, pid=os.getpid())
        log.info("worldstate subscriber %s started", self.holder)
        try:
            while not self.stopping.is_set():
                try:
                    self.tick()
                except DatabaseError as error:
                    log.warning("subscriber: database unavailable (%s)", type(error).__name__)
                    connections.close_all()
                self.stopping.wait(self.beat_seconds())
        finally:
            self.shutdown()

    def tick(self) -> None:
        close_old_connections()
        now = timezone.now()
        SubscriberHeartbeat.objects.filter(identity=self.holder).update(last_seen=now)
        SubscriberHeartbeat.objects.filter(last_seen__lt=now - timedelta(days=1)).delete()  # killed ones
        engines = dict(Engine.objects.values_list("pk", "base_url"))
        for engine_id, base_url in engines.items():
            runner = self.runners.get(engine_id)
            if not live_store.claim(engine_id, self.holder, now):
                if runner is not None:  # someone took it over while we were silent
                    runner.stop()
                    del self.runners[engine_id]
                continue
            if runner is not None and (not runner.is_alive() or
                                       (runner.base_url and runner.base_url != base_url)):
                runner.stop()  # a changed URL is another engine: start over
                runner = None
            if runner is None:
                runner = self.runners[engine_id] = EngineRunner(engine_id, self.holder)
                runner.start()
        for engine_id in set(self.runners) - set(engines):
            self.runners.pop(engine_id).stop()

    def stop(self) -> None:
        self.stopping.set()

    def shutdown(self) -> None:
        for runner in self.runners.values():
            runner.stop()
        for runner in self.runners.values():
            runner.join(timeout=5)
        try:
            for engine_id in self.runners:
                live_store.release(engine_id, self.holder)
            SubscriberHeartbeat.objects.filter(identity=self.holder).delete()
        except DatabaseError:
            pass
        self.runners.clear()
        connections.close_all()


def report() -> dict:
    """The /healthz part: is a subscriber beating, and how many engines are live."""
    fresh = timezone.now() - timedelta(seconds=settings.WORLDSTATE_LEASE_SECONDS)
    beating = SubscriberHeartbeat.objects.filter(last_seen__gte=fresh).count()
    if not beating:
        return {"status": "not running"}
    held = EngineLive.objects.filter(beat_at__gte=fresh).exclude(holder="")
    return {"status": "ok", "processes": beating, "engines_held": held.count(),
            "engines_live": held.filter(state=EngineLive.State.LIVE).count()}
