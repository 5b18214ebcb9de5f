"""Run-time state of the apps installed on one simulated node: containers, logs, volumes.

Each component of an installed app is one simulated docker container with a state
(running / stopped / paused), a log that keeps growing while it runs (docker-style RFC 3339
timestamps), stats, and a volume laid out like a FluxOS component mount
(`appdata/`, `backup/{local,remote,upload}/`). Lifecycle commands change the state and write log
lines, the way a container's own output would show a restart.
"""

from __future__ import annotations

import copy
import io
import math
import os
import tarfile
import time
import zipfile
from collections import deque
from datetime import UTC, datetime

from tests.sim.fluxnode_world import hex_id, now_ms

# How fast a running container logs: one tick every LOG_INTERVAL_MS, LOG_BURST lines per tick, all
# in the same millisecond (FluxOS's inclusive millisecond `since` makes those the hard case).
# FLUXSIM_LOG_INTERVAL_MS / FLUXSIM_LOG_BURST set them for a simulator in its own process;
# set_log_rate() for one on a test's thread.
LOG_INTERVAL_MS = int(os.environ.get("FLUXSIM_LOG_INTERVAL_MS") or 2_000)
LOG_BURST = int(os.environ.get("FLUXSIM_LOG_BURST") or 1)
LOG_KEEP = 2_000
APPS_FOLDER = "/home/fluxuser/zelflux/ZelApps"


def set_log_rate(interval_ms: int = 2_000, burst: int = 1) -> tuple[int, int]:
    """Change how fast every simulated container logs; returns the previous (interval, burst)."""
    global LOG_INTERVAL_MS, LOG_BURST
    previous = (LOG_INTERVAL_MS, LOG_BURST)
    LOG_INTERVAL_MS, LOG_BURST = max(1, int(interval_ms)), max(1, int(burst))
    return previous


class DockerError(Exception):
    """What dockerode throws; FluxOS puts its message into the error envelope."""


def docker_time(ms: int) -> str:
    """RFC 3339 with nanoseconds, like docker's log timestamps."""
    stamp = datetime.fromtimestamp(ms / 1000, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}000000Z"


def iso_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_since_ms(value: str) -> int | None:
    """Docker's `since`: RFC 3339 (any fraction) or unix seconds; None when unparsable."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return int(float(text) * 1000) if text.replace(".", "", 1).isdigit() else _rfc3339_ms(text)
    except ValueError:
        return None


def _rfc3339_ms(text: str) -> int:
    text = text.replace("Z", "+00:00")
    main, _, rest = text.partition(".")
    fraction = ""
    zone = ""
    if rest:
        digits = ""
        for position, ch in enumerate(rest):
            if not ch.isdigit():
                zone = rest[position:]
                break
            digits += ch
        fraction = digits
    else:
        for sign in ("+", "-"):
            if sign in main[10:]:
                head, _, tail = main[10:].rpartition(sign)
                main, zone = main[:10] + head, sign + tail
                break
    moment = datetime.fromisoformat(main + (zone or "+00:00"))
    return int(moment.timestamp()) * 1000 + int((fraction + "000")[:3])


class VNode:
    """A file or folder in a simulated volume. A file's bytes are in memory (`content`) or, for
    big archives, in a file on disk (`file_path`): then nothing reads it whole unless asked."""

    def __init__(self, name: str, *, content: bytes | None = None, ms: int | None = None,
                 file_path: str | None = None):
        self.name = name
        self.file_path = file_path
        is_file = content is not None or file_path is not None
        self.children: dict[str, VNode] | None = None if is_file else {}
        self._content = content
        self.created = self.modified = ms if ms is not None else now_ms()

    @property
    def is_dir(self) -> bool:
        return self.children is not None

    @property
    def content(self) -> bytes | None:
        if self.file_path is not None:
            with open(self.file_path, "rb") as handle:  # small files only: callers check size()
                return handle.read()
        return self._content

    def size(self) -> int:
        if self.is_dir:
            return sum(child.size() for child in self.children.values())
        if self.file_path is not None:
            return os.path.getsize(self.file_path)
        return len(self._content)


class Volume:
    """A component mount; paths are relative to it (`appdata/sub`), `..` is refused.

    `appdata_archive` (a tar.gz on disk) stands for the whole appdata when set: a backup then
    *is* that file and appdata lists nothing. It is set by SimFleet.set_volume_archive and by the
    restore of a file-backed archive, and dropped as soon as anything under appdata changes.
    """

    def __init__(self, mount: str, seed_text: str, ms: int):
        self.mount = mount
        self.root = VNode("")
        self.appdata_archive: str | None = None
        for folder in ("appdata", "backup", "backup/local", "backup/remote", "backup/upload"):
            self.make_dir(folder, ms=ms)
        self.write("appdata/config.yml", f"# {seed_text}\nlisten: 0.0.0.0\n".encode(), ms=ms)
        self.make_dir("appdata/data", ms=ms)
        for number in range(3):
            self.write(f"appdata/data/part-{number}.bin", (seed_text * (number + 1)).encode(), ms=ms)

    @staticmethod
    def split(path: str) -> list[str]:
        parts = [p for p in (path or "").strip("/").split("/") if p not in ("", ".")]
        if any(p == ".." for p in parts):
            raise ValueError("Path traversal is not allowed")
        return parts

    def get(self, path: str) -> VNode | None:
        node = self.root
        for part in self.split(path):
            if not node.is_dir or part not in node.children:
                return None
            node = node.children[part]
        return node

    def parent_of(self, path: str) -> tuple[VNode, str]:
        parts = self.split(path)
        if not parts:
            raise ValueError("Invalid path")
        if parts[0] == "appdata":
            self.appdata_archive = None  # appdata changes: the archive no longer stands for it
        parent = self.get("/".join(parts[:-1]))
        if parent is None or not parent.is_dir:
            raise ValueError("Parent folder does not exist")
        return parent, parts[-1]

    def make_dir(self, path: str, *, ms: int | None = None) -> VNode:
        parent, name = self.parent_of(path)
        node = parent.children.get(name)
        if node is None:
            node = parent.children[name] = VNode(name, ms=ms)
        return node

    def write(self, path: str, content: bytes, *, ms: int | None = None) -> VNode:
        parent, name = self.parent_of(path)
        node = parent.children[name] = VNode(name, content=content, ms=ms)
        return node

    def write_file_backed(self, path: str, file_path: str) -> VNode:
        """A file whose bytes stay in `file_path` on disk (a big archive)."""
        parent, name = self.parent_of(path)
        node = parent.children[name] = VNode(name, file_path=file_path)
        return node

    def use_archive(self, file_path: str) -> None:
        """appdata becomes the tar.gz at `file_path`: emptied, and backed up as that very file."""
        self.remove("appdata")
        self.make_dir("appdata")
        self.appdata_archive = file_path

    def remove(self, path: str) -> None:
        parent, name = self.parent_of(path)
        if name not in parent.children:
            raise ValueError("File or folder does not exist")
        del parent.children[name]

    def used_bytes(self) -> int:
        archive = os.path.getsize(self.appdata_archive) if self.appdata_archive else 0
        return self.root.size() + archive

    def host_path_to_relative(self, host_path: str) -> str | None:
        if host_path == self.mount or host_path.startswith(self.mount + "/"):
            return host_path[len(self.mount):].strip("/")
        return None

    def tar_folder(self, path: str) -> bytes:
        folder = self.get(path)
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            for rel, node in _walk(folder, ""):
                info = tarfile.TarInfo(rel)
                info.mtime = node.modified // 1000
                if node.is_dir:
                    info.type = tarfile.DIRTYPE
                    archive.addfile(info)
                else:
                    info.size = len(node.content)
                    archive.addfile(info, io.BytesIO(node.content))
        return buffer.getvalue()

    def untar_into(self, path: str, data: bytes) -> None:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in archive.getmembers():
                target = f"{path}/{member.name}".strip("/")
                self.split(target)  # refuses traversal inside archives
                if member.isdir():
                    self.make_dir(target)
                else:
                    self.write(target, archive.extractfile(member).read())

    def zip_folder(self, path: str) -> bytes:
        folder = self.get(path)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for rel, node in _walk(folder, ""):
                if not node.is_dir:
                    archive.writestr(rel, node.content)
        return buffer.getvalue()


def _walk(node: VNode, prefix: str):
    for name, child in sorted(node.children.items()):
        rel = f"{prefix}{name}"
        yield rel, child
        if child.is_dir:
            yield from _walk(child, rel + "/")


class Container:
    """One component of an installed app, as docker would see it."""

    def __init__(self, app: str, spec: dict, seed: int, node_index: int, installed_ms: int):
        self.app = app
        self.spec = spec
        self.name = f"{spec['name']}_{app}"
        self.id = hex_id(seed, "container", node_index, self.name)
        self.created_ms = installed_ms
        self.started_ms = installed_ms
        self.finished_ms = 0
        self.state = "running"
        self.restarts = 0
        self.log: deque[tuple[int, str]] = deque(maxlen=LOG_KEEP)
        self._generated_until = installed_ms
        self._counter = 0
        self.volume = Volume(f"{APPS_FOLDER}/flux{self.name}", f"{self.name}@{node_index}", installed_ms)
        self.say(installed_ms, f"{self.spec['repotag']} starting")

    @property
    def docker_name(self) -> str:
        return f"/flux{self.name}"

    def say(self, ms: int, text: str) -> None:
        self.log.append((ms, text))

    def catch_up(self, at_ms: int | None = None) -> None:
        """A running container keeps logging; generate the lines it wrote since last looked at."""
        at_ms = at_ms if at_ms is not None else now_ms()
        if self.state != "running":
            self._generated_until = max(self._generated_until, at_ms)
            return
        interval, burst = LOG_INTERVAL_MS, LOG_BURST
        start = max(self._generated_until, at_ms - LOG_KEEP * interval)
        tick = start - start % interval + interval
        while tick <= at_ms:
            for _ in range(burst):
                self._counter += 1
                self.say(tick, f"GET /health 200 {self._counter % 17 + 1}ms req={self._counter}")
            tick += interval
        self._generated_until = at_ms

    # docker state changes, with dockerode's error texts for the invalid ones
    def start(self, ms: int) -> None:
        if self.state in ("running", "paused"):
            raise DockerError("(HTTP code 304) container already started - ")
        self.catch_up(ms)
        self.state, self.started_ms = "running", ms
        self.say(ms, f"{self.spec['repotag']} starting")

    def stop(self, ms: int) -> None:
        if self.state == "stopped":
            raise DockerError("(HTTP code 304) container already stopped - ")
        self.catch_up(ms)
        self.say(ms, "received SIGTERM, shutting down")
        self.state, self.finished_ms = "stopped", ms

    def restart(self, ms: int) -> None:
        self.catch_up(ms)
        if self.state != "stopped":
            self.say(ms, "received SIGTERM, shutting down")
        self.state, self.started_ms = "running", ms
        self.restarts += 1
        self.say(ms, f"{self.spec['repotag']} starting")

    def pause(self, ms: int) -> None:
        if self.state == "stopped":
            raise DockerError(f"(HTTP code 409) unexpected - Container {self.id} is not running")
        if self.state == "paused":
            raise DockerError(f"(HTTP code 409) unexpected - Container {self.id} is already paused")
        self.catch_up(ms)
        self.state = "paused"

    def unpause(self, ms: int) -> None:
        if self.state != "paused":
            raise DockerError(f"(HTTP code 409) unexpected - Container {self.id} is not paused")
        self.catch_up(ms)
        self.state = "running"

    # docker read-outs
    def log_lines(self, since_ms: int | None = None) -> list[tuple[int, str]]:
        self.catch_up()
        if since_ms is None:
            return list(self.log)
        return [entry for entry in self.log if entry[0] >= since_ms]

    def status_text(self, at_ms: int) -> str:
        if self.state == "stopped":
            return f"Exited (0) {_ago(at_ms - self.finished_ms)} ago"
        text = f"Up {_ago(at_ms - self.started_ms)}"
        return text + " (Paused)" if self.state == "paused" else text

    def list_entry(self, at_ms: int) -> dict:
        """`/containers/json` entry minus HostConfig, NetworkSettings, Mounts (as FluxOS trims it)."""
        port = self.spec["ports"][0] if self.spec.get("ports") else None
        cport = self.spec["containerPorts"][0] if self.spec.get("containerPorts") else None
        return {
            "Id": self.id, "Names": [self.docker_name], "Image": self.spec["repotag"],
            "ImageID": "sha256:" + hex_id("image", self.spec["repotag"]),
            "Command": "/entrypoint.sh", "Created": self.created_ms // 1000,
            "Ports": [{"IP": "0.0.0.0", "PrivatePort": cport, "PublicPort": port, "Type": "tcp"}]
            if port else [],
            "Labels": {"flux.app": self.app}, "State": self.state,
            "Status": self.status_text(at_ms),
        }

    def inspect(self) -> dict:
        running = self.state in ("running", "paused")
        return {
            "Id": self.id, "Created": iso_time(self.created_ms), "Path": "/entrypoint.sh",
            "Args": [], "Name": self.docker_name, "RestartCount": self.restarts,
            "Image": "sha256:" + hex_id("image", self.spec["repotag"]),
            "State": {
                "Status": "exited" if self.state == "stopped" else self.state,
                "Running": running, "Paused": self.state == "paused", "Restarting": False,
                "OOMKilled": False, "Dead": False, "Pid": 4000 + int(self.id[:3], 16) if running else 0,
                "ExitCode": 0, "Error": "", "StartedAt": iso_time(self.started_ms),
                "FinishedAt": iso_time(self.finished_ms) if self.finished_ms else "0001-01-01T00:00:00Z",
            },
            "HostConfig": {"NanoCpus": int(self.spec["cpu"] * 1e9), "Memory": self.spec["ram"] * 1024 * 1024,
                           "RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0},
                           "Binds": [f"{self.volume.mount}/appdata:{self.spec['containerData']}"]},
            "Config": {"Hostname": self.id[:12], "Image": self.spec["repotag"],
                       "Env": list(self.spec.get("environmentParameters", [])),
                       "Cmd": list(self.spec.get("commands", [])),
                       "ExposedPorts": {f"{p}/tcp": {} for p in self.spec.get("containerPorts", [])}},
            "Mounts": [{"Type": "bind", "Source": f"{self.volume.mount}/appdata",
                        "Destination": self.spec["containerData"], "RW": True}],
            "NetworkSettings": {"Networks": {f"fluxDockerNetwork_{self.app}": {"IPAddress": "172.23.0.2"}}},
        }

    # What the garbage answer of one container's stats puts in every figure (a test sets it on a
    # container through SimFleet.call; None answers real figures).
    garbage_stats = None

    def stats(self, at_ms: int) -> dict:
        """docker's one-shot stats (as FluxOS's /apps/appstats answers them) plus FluxOS's
        `nanoCpus` and `disk_stats`. The counters are cumulative since the container started, so
        they start again from zero after a restart, like a real container's cgroup; the rates
        wave over minutes, so a chart of them has shape."""
        used = self.volume.used_bytes()
        answer = {
            "read": iso_time(at_ms), "preread": iso_time(at_ms - 1000), "name": self.docker_name,
            "id": self.id, "nanoCpus": int(self.spec["cpu"] * 1e9),
            "disk_stats": {"bind": used, "volume": 0, "rootfs": 52_428_800, "used": used + 52_428_800,
                           "status": "success"},
        }
        if self.state != "running":  # docker's answer for a container that is not running
            answer.update({
                "pids_stats": {}, "memory_stats": {}, "blkio_stats": {"io_service_bytes_recursive": None},
                "cpu_stats": {"cpu_usage": {"total_usage": 0}, "throttling_data": {}},
                "precpu_stats": {"cpu_usage": {"total_usage": 0}, "throttling_data": {}}})
            return self._garbled(answer)
        up = max(1.0, (at_ms - self.started_ms) / 1000)
        cpus, limit = 4, self.spec["ram"] * 1024 * 1024
        host_ns = (at_ms - self.created_ms + 86_400_000) * 1_000_000 * cpus  # the host booted a day before
        usage = int(limit * (0.4 + 0.25 * math.sin(2 * math.pi * up / 900)))

        def cpu_ns(t):  # a quarter of its CPUs on average, ±60 % over ten minutes
            return int(self.spec["cpu"] * 1e9 * _wave(t, 600, 0.25, 0.15))

        answer.update({
            "pids_stats": {"current": 7},
            "cpu_stats": {"cpu_usage": {"total_usage": cpu_ns(up)}, "system_cpu_usage": host_ns,
                          "online_cpus": cpus,
                          "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}},
            "precpu_stats": {"cpu_usage": {"total_usage": cpu_ns(up - 1)},
                             "system_cpu_usage": host_ns - 1_000_000_000 * cpus, "online_cpus": cpus},
            "memory_stats": {"usage": usage, "limit": limit, "stats": {"inactive_file": usage // 10}},
            "networks": {"eth0": {"rx_bytes": int(_wave(up, 300, 1200, 700)), "tx_bytes": int(_wave(up, 420, 800, 500)),
                                  "rx_packets": int(up * 3), "tx_packets": int(up * 2)}},
            "blkio_stats": {"io_service_bytes_recursive": [
                {"major": 8, "minor": 0, "op": "read", "value": int(_wave(up, 240, 4096, 3000))},
                {"major": 8, "minor": 0, "op": "write", "value": int(_wave(up, 360, 2048, 1500))}]},
        })
        return self._garbled(answer)

    def _garbled(self, answer):
        """`answer` with every number replaced by garbage_stats (when a test set it)."""
        if self.garbage_stats is None:
            return answer
        if isinstance(answer, dict):
            return {key: self._garbled(value) for key, value in answer.items()}
        if isinstance(answer, list):
            return [self._garbled(value) for value in answer]
        return self.garbage_stats if isinstance(answer, (int, float)) and not isinstance(answer, bool) else answer

    def top(self) -> dict:
        if self.state == "stopped":
            raise DockerError(f"(HTTP code 409) unexpected - Container {self.id} is not running")
        return {"Titles": ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
                "Processes": [["root", "4101", "4080", "0", "10:00", "?", "00:00:01", "/entrypoint.sh"],
                              ["app", "4140", "4101", "1", "10:00", "?", "00:00:12",
                               self.spec["repotag"].split(":")[0]]]}

    def changes(self) -> list:
        return [{"Path": "/tmp", "Kind": 0}, {"Path": "/tmp/app.pid", "Kind": 1},
                {"Path": "/var/cache/apt", "Kind": 2}]


def _wave(t: float, period: float, mean: float, swing: float) -> float:
    """The integral over 0…t of a rate that waves around `mean` by `swing` with `period` seconds:
    a cumulative counter whose rate rises and falls (never below mean - swing)."""
    return mean * t + swing * period / (2 * math.pi) * (1 - math.cos(2 * math.pi * t / period))


def _ago(ms: int) -> str:
    seconds = max(0, ms // 1000)
    if seconds < 60:
        return f"{seconds} seconds"
    if seconds < 3600:
        return f"{seconds // 60} minutes"
    if seconds < 86400:
        return f"{seconds // 3600} hours"
    return f"{seconds // 86400} days"


class InstalledApp:
    """An app installed on one node: its local spec copy and one container per component."""

    def __init__(self, spec: dict, seed: int, node_index: int, installed_ms: int | None = None):
        self.spec = copy.deepcopy(spec)
        installed_ms = installed_ms if installed_ms is not None else now_ms() - 3_600_000
        self.installed_ms = installed_ms
        self.containers = {component["name"]: Container(spec["name"], component, seed, node_index,
                                                        installed_ms)
                           for component in spec["compose"]}
        self.backup_running = False
        self.restore_running = False

    @property
    def name(self) -> str:
        return self.spec["name"]

    def container(self, name: str) -> Container | None:
        """By component name (`web`) or FluxOS identifier (`web_app`)."""
        component = name.split("_")[0] if "_" in name else name
        return self.containers.get(component)

    def state_summary(self) -> str:
        states = {c.state for c in self.containers.values()}
        return states.pop() if len(states) == 1 else "mixed"


def monotonic_ms() -> int:
    return int(time.monotonic() * 1000)
