"""Connectors and the runtime config."""
from __future__ import annotations

import re

from django.urls import reverse

from tests.integration.worldstate.pages import ADMIN, field_errors, html_of, make_engine

# ---- connectors and runtime config ----------------------------------------------------------


def test_it_connectors_are_listed(personas, client_as, double):
    engine = make_engine(personas, double.url)
    html = html_of(client_as("viewer").get(reverse("worldstate:connectors", args=[engine.pk])))
    assert re.findall(r'data-connector="(\w+)"', html) == ["github", "gmail", "linkedin", "calendar"]
    assert "not_configured" in html


def test_it_runtime_config_is_read_by_viewers_and_changed_by_managers(personas, client_as, auth_double):
    engine = make_engine(personas, auth_double.url)
    viewer_html = html_of(client_as("viewer").get(reverse("worldstate:config", args=[engine.pk])))
    assert "10000" in viewer_html and "config-form" not in viewer_html
    manager = client_as("manager")
    data = {"rate_limit_enabled": "on", "rate_limit_per_namespace_per_minute": 600,
            "body_size_limit_single_bytes": 65536, "body_size_limit_batch_bytes": 1048576}
    refused = html_of(manager.post(reverse("worldstate:config_edit", args=[engine.pk]), data))
    assert "The engine refused the change: Unauthorized (HTTP 401)" in refused  # no admin token
    engine.set_admin_token(ADMIN)
    engine.save()
    assert manager.post(reverse("worldstate:config_edit", args=[engine.pk]), data).status_code == 302
    assert auth_double.call(lambda e: dict(e.config)) == {
        "rate_limit_enabled": True, "rate_limit_per_namespace_per_minute": 600,
        "body_size_limit_single_bytes": 65536, "body_size_limit_batch_bytes": 1048576}
    zero = html_of(manager.post(reverse("worldstate:config_edit", args=[engine.pk]),
                                {**data, "body_size_limit_single_bytes": 0}))
    assert "greater than or equal to 1" in field_errors(zero, "body_size_limit_single_bytes")
