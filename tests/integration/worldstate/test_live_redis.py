"""With Redis configured, the subscriber mirrors the recent-updates log there and the live stream
page shows its newest lines from Redis without reading them from the database."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.integration.worldstate.conftest import wait_for
from tests.integration.worldstate.live import RunningSubscriber, copied, wait_live
from tests.integration.worldstate.pages import html_of, make_engine
from tests.sim.worldstate import loopback_client

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_it_mirrors_the_log_to_redis_and_the_stream_reads_it_there(personas, double, client_as,
                                                                   settings, redis_broker):
    import redis

    double.configure(metrics_interval=0.2)
    settings.REDIS_URL = redis_broker
    settings.WORLDSTATE_LEASE_SECONDS = 2
    settings.WORLDSTATE_SILENCE_SECONDS = 1
    engine = make_engine(personas, double.url)
    with RunningSubscriber():
        wait_live(engine)
        loopback_client(double.url).publish("s.t", "x", "team-a/valve", {"open": True})
        wait_for(lambda: copied(engine, "team-a/valve") == {"open": True})
        store = redis.Redis.from_url(redis_broker)
        key = f"fluxpanel:worldstate:{engine.pk}:lines"
        wait_for(lambda: any(b"team-a/valve" in line for line in store.lrange(key, 0, -1)))
        client = client_as("viewer")
        url = reverse("worldstate:live", args=[engine.pk])
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            html = html_of(client.get(url))
        assert "team-a/valve" in html and "true" in html
        assert not any("worldstate_liveupdate" in q["sql"] for q in queries.captured_queries), \
            "the newest lines should come from Redis"
        filtered = html_of(client.get(url, {"prefix": "team-a/v"}))  # a prefix reads the database
        assert "team-a/valve" in filtered
