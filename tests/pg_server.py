"""A throw-away PostgreSQL server for one test run (no Django import: tests/settings.py uses it).

`ensure_server()` is called while the test settings are imported, so the server is up before
Django opens a connection, whatever the pytest invocation (`-k`, one file, xdist). The first process
that needs it starts it and publishes its URL in FLUXPANEL_TEST_PG_URL; every process started from
there (xdist workers, a Celery worker launched by a test) inherits the variable and reuses the same
server. The starting process stops it at exit; if that process is killed outright the server gets
SIGQUIT through PR_SET_PDEATHSIG, so no postgres is left behind.

The server runs from a temporary folder: trust auth on 127.0.0.1 only, its unix socket inside the
folder, fsync and synchronous commits off (a crash loses only test data). initdb refuses to run as
root, so as root the cluster belongs to the `postgres` system user made by Debian's package.
"""
from __future__ import annotations

import atexit
import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

URL_VARIABLE = "FLUXPANEL_TEST_PG_URL"
SUPERUSER = "postgres"  # the cluster's role, not necessarily the OS user running it
DATABASE = "fluxpanel"  # pytest-django creates test_fluxpanel (test_fluxpanel_gw0 … under xdist)
START_TIMEOUT_S = 60
PR_SET_PDEATHSIG = 1


class ServerError(RuntimeError):
    pass


def binary_folder() -> Path:
    """Debian keeps initdb/pg_ctl/postgres under /usr/lib/postgresql/<version>/bin, off PATH."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    candidates = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not candidates:
        raise ServerError("PostgreSQL is not installed: run `make test` (it installs it) or "
                          "apt-get install postgresql")
    newest = max(candidates, key=lambda path: int(Path(path).parts[-3].split(".")[0]))
    return Path(newest).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    # Runs in the child after the uid change (the kernel clears the setting on a uid change).
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGQUIT)


class Server:
    def __init__(self) -> None:
        self.bin = binary_folder()
        self.folder = Path(tempfile.mkdtemp(prefix="fluxpanel-pg-"))
        self.data = self.folder / "data"
        self.as_user = SUPERUSER if os.geteuid() == 0 else None
        if self.as_user:
            account = pwd.getpwnam(self.as_user)
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        self.port = 0
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"postgres://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    def _as_user(self) -> dict:
        """Popen arguments that drop root: uid, gid and no supplementary groups of root's."""
        if not self.as_user:
            return {}
        return {"user": self.as_user, "group": pwd.getpwnam(self.as_user).pw_gid, "extra_groups": []}

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(args, cwd=self.folder, capture_output=True, text=True, **self._as_user())

    def start(self) -> None:
        result = self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
                           "--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C")
        if result.returncode:
            raise ServerError(f"initdb failed:\n{result.stdout}{result.stderr}")
        for _attempt in range(3):  # the free port can be taken between probe and bind
            self.port = _free_port()
            if self._launch():
                return
        raise ServerError("postgres did not start; see " + str(self.folder / "server.log"))

    def _launch(self) -> bool:
        log = open(self.folder / "server.log", "ab")  # noqa: SIM115 - kept open for the server's life
        if self.as_user:
            os.chown(log.name, pwd.getpwnam(self.as_user).pw_uid, -1)
        self.process = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.folder}",
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=200", "-c", "log_min_messages=warning"],
            cwd=self.folder, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only ctypes prctl, before any thread
            **self._as_user(),
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            ready = self._run(str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1",
                              "-p", str(self.port), "-U", SUPERUSER, "-d", "postgres")
            if ready.returncode == 0:
                return True
            time.sleep(0.1)
        self.process.kill()
        return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: ends open sessions too
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def ensure_server() -> str:
    """The URL of this run's server, starting it in this process if no parent did."""
    url = os.environ.get(URL_VARIABLE)
    if url:
        return url
    server = Server()
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    atexit.register(server.stop)
    os.environ[URL_VARIABLE] = server.url
    return server.url
