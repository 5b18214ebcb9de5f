"""compose.yaml is valid and runs commands that exist; /healthz reports each part."""
import shutil
from pathlib import Path

import pytest
import yaml
from django.test import override_settings

from apps.jobs.models import ProcessHeartbeat
from fluxpanel.celery import app as celery_app

REPO = Path(__file__).resolve().parents[3]


def test_it_compose_services_and_commands():
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"web", "worker", "beat", "subscriber", "postgres", "redis"}
    for name in ("web", "postgres", "redis", "worker"):
        assert "healthcheck" in services[name], name
    for name in ("postgres", "redis"):
        assert any(":" in volume for volume in services[name]["volumes"])
    assert "celery -A fluxpanel worker" in services["worker"]["command"]
    assert "celery -A fluxpanel beat" in services["beat"]["command"]
    assert services["subscriber"]["command"] == "python manage.py worldstate_subscribe"
    assert "gunicorn fluxpanel.wsgi:application" in services["web"]["command"]
    # The commands exist in the project's environment and the modules they name import.
    for executable in ("celery", "gunicorn"):
        assert shutil.which(executable), executable
    import fluxpanel.celery  # noqa: F401
    import fluxpanel.wsgi  # noqa: F401
    assert (REPO / compose["x-panel"]["build"] / "Dockerfile").exists()


@pytest.mark.django_db
def test_it_healthz_ok_with_worker_and_beat(client):
    ProcessHeartbeat.objects.create(hostname="worker@a", role="worker")
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert (body["database"], body["broker"], body["worker"]["status"], body["beat"]["status"]) == (
        "ok", "ok", "ok", "never seen"
    )


@pytest.mark.django_db
def test_it_healthz_names_a_failing_broker(client):
    old = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        with override_settings():
            response = client.get("/healthz")
    finally:
        celery_app.conf.broker_url = old
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"]
    assert body["database"] == "ok"
    assert "Error" in body["broker"]
