"""The Build tab's live round trip (parse + check + price + render) for a 5-component spec.

    uv run python bench/builder.py [--repeats N]

POSTs the autosave form (one field changing each time, as a user typing) through Django's test
client, ≥200 times. Target: median ≤ 30 ms. Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import _panel  # noqa: F401  (puts the repository on sys.path)
from _panel import manager_of_new_team, setup_django

COMPONENT = {"name": "web", "description": "web component", "repotag": "nginx:1.25.3", "ports": [36001],
             "domains": [""], "environmentParameters": ["FOO=bar"], "commands": [], "containerPorts": [80],
             "containerData": "/data", "cpu": 0.5, "ram": 500, "hdd": 5, "repoauth": ""}


def five_component_spec() -> dict:
    compose = []
    for index in range(5):
        component = copy.deepcopy(COMPONENT)
        component["name"] = f"part{index}"
        component["ports"] = [36001 + index]
        compose.append(component)
    return {"version": 8, "name": "benchapp", "description": "Bench app", "owner": "1P3L2Fgx2M4Mp54chgrLZM5eAUPXhLTbnd",
            "compose": compose, "instances": 3, "contacts": [], "geolocation": [], "expire": 88000, "nodes": [],
            "staticip": False, "enterprise": ""}


def form_data(spec: dict) -> dict:
    from apps.builder.builder_form import spec_to_form

    form = spec_to_form(spec)
    data = {k: str(v) for k, v in form.items() if k not in ("components", "has_datacenter", "datacenter",
                                                           "enterprise_false", "staticip")}
    for index, row in enumerate(form["components"]):
        for key, value in row.items():
            data[f"c{index}-{key}"] = str(value)
    return data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from apps.builder.actions import create_draft
    from apps.builder.models import AppDraft

    membership = manager_of_new_team("builder-bench")
    spec = five_component_spec()
    draft = create_draft(membership=membership, spec=spec)
    client = Client()
    client.force_login(membership.user)
    url = reverse("builder:save", kwargs={"pk": draft.pk})
    data = form_data(spec)
    repeats = max(args.repeats, 200)
    print(f"bench: {repeats} live round trips on a 5-component draft", flush=True)

    def one(step: int) -> int:
        revision = AppDraft.objects.values_list("revision", flat=True).get(pk=draft.pk)
        posted = data | {"revision": str(revision), "description": f"Bench app {step}"}
        started = time.perf_counter()
        response = client.post(url, posted, HTTP_HX_REQUEST="true")
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (response.status_code, response.content[:300])
        return elapsed

    one(-1)  # warm up
    times = []
    for step in range(repeats):
        times.append(one(step))
        if (step + 1) % 50 == 0:
            print(f"  {step + 1}/{repeats}: median so far {statistics.median(times):.1f} ms", flush=True)
    revision = AppDraft.objects.values_list("revision", flat=True).get(pk=draft.pk)
    with CaptureQueriesContext(connection) as captured:
        client.post(url, data | {"revision": str(revision), "description": "Bench app last"}, HTTP_HX_REQUEST="true")
    print(json.dumps({"bench": "builder_live_round_trip", "components": 5, "round_trips": repeats,
                      "median_ms": round(statistics.median(times), 1), "target_ms": 30,
                      "queries": len(captured)}))


if __name__ == "__main__":
    main()
