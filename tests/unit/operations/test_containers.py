"""docker inspect, top and changes made readable: secrets masked, lists capped, kinds spelled out."""
from __future__ import annotations

from apps.operations import containers

INSPECT = {
    "Name": "/fluxweb_shop", "RestartCount": 3, "Image": "sha256:abc",
    "State": {"Status": "running", "Running": True, "StartedAt": "2026-12-04T10:00:00.000Z", "OOMKilled": False},
    "Config": {"Image": "runonflux/shop:1.2", "Cmd": ["serve", "--port", "80"],
               "Env": ["DB_PASSWORD=hunter2", "Api_Key=k-123", "wallet_seed=abandon", "my_wif=5J", "MODE=prod",
                       "EMPTY=", "NOEQUALS", 42],
               "ExposedPorts": {"80/tcp": {}, "9000/tcp": {}}},
    "HostConfig": {"NanoCpus": 500_000_000, "Memory": 512 * 2**20, "RestartPolicy": {"Name": "unless-stopped"}},
    "NetworkSettings": {"Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "31000"}]}},
    "Mounts": [{"Source": "/home/flux/appdata", "Destination": "/data", "RW": True}, "garbage"],
}


def test_it_summarises_inspect_and_masks_secret_values_everywhere():
    summary = containers.summary(INSPECT)
    fields = dict(summary.fields)
    assert fields["Image"] == "runonflux/shop:1.2" and fields["State"] == "running"
    assert fields["Restart count"] == "3" and fields["Started"] == "2026-12-04T10:00:00.000Z"
    assert fields["CPU limit"] == "0.5 CPUs" and fields["Memory limit"] == "512 MiB"
    assert "Finished" not in fields and "Exit code" not in fields  # it runs
    assert summary.ports == ["80/tcp → 0.0.0.0:31000", "9000/tcp (exposed)"]
    assert summary.mounts == [("/home/flux/appdata", "/data", "rw"), ("", "", "ro")]
    assert summary.env.rows == [("DB_PASSWORD", "•••"), ("Api_Key", "•••"), ("wallet_seed", "•••"),
                                ("my_wif", "•••"), ("MODE", "prod"), ("EMPTY", ""), ("NOEQUALS", "")]
    for secret in ("hunter2", "k-123", "abandon", "5J"):
        assert secret not in summary.raw
    assert '"MODE=prod"' in summary.raw and '"DB_PASSWORD=•••"' in summary.raw
    assert INSPECT["Config"]["Env"][0] == "DB_PASSWORD=hunter2"  # the answer itself is left as it was


def test_it_summary_of_garbage_is_empty_not_a_crash():
    for garbage in (None, [], "x", {"State": [], "Config": "x", "Mounts": {"a": 1}, "NetworkSettings": 5}):
        summary = containers.summary(garbage)
        assert summary.ports == [] and summary.mounts == [] and summary.env.rows == []


def test_it_cuts_long_texts_and_caps_the_lists():
    long = containers.summary({"Config": {"Image": "x" * 10_000, "Env": [f"V{i}=1" for i in range(1000)]}})
    assert len(dict(long.fields)["Image"]) == containers.MAX_TEXT
    assert long.env.cut and len(long.env.rows) == containers.MAX_LIST and long.env.total == 1000
    titles, processes = containers.processes({"Titles": ["PID", "CMD"],
                                              "Processes": [[str(i), "sleep"] for i in range(600)]})
    assert titles == ["PID", "CMD"] and len(processes.rows) == 500 and processes.total == 600 and processes.cut
    changes = containers.changes([{"Path": f"/tmp/{i}", "Kind": 1} for i in range(2500)])
    assert len(changes.rows) == 2000 and changes.cut


def test_it_spells_out_the_kinds_of_changes():
    listed = containers.changes([{"Path": "/tmp", "Kind": 0}, {"Path": "/a", "Kind": 1}, {"Path": "/b", "Kind": 2},
                                 {"Path": "/c", "Kind": 9}, "garbage"])
    assert listed.rows == [("changed", "/tmp"), ("added", "/a"), ("deleted", "/b"), ("unknown", "/c"),
                           ("unknown", "")]
    assert containers.changes({"not": "a list"}).rows == []
    assert containers.processes("garbage") == ([], containers.Listing([], 0, containers.MAX_PROCESSES))
