"""Health and identity: the public read-outs a sweep uses, and the node's login flow."""

from __future__ import annotations

import json
import math

from .errors import BadResponse, FluxError
from .transport import BIG_LIST_MAX_BODY, TEXT_PLAIN, message_of, parse_envelope

# Postgres bigint / the columns the panel stores these in.
MAX_UPTIME_S = 2**63 - 1
MAX_HEIGHT = 2**31 - 1


def whole_number(value, *, url: str, what: str, maximum: int, minimum: int = 0) -> int:
    """A node's number as an int in [minimum, maximum], else BadResponse (never ValueError or
    OverflowError: a node's 1e20 or "abc" is a bad answer, not a crash)."""
    number = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() \
            and len(value.strip()) <= 20:
        number = int(value.strip())
    if number is None:
        raise BadResponse(f"{what} is not a whole number", url=url, body=str(value)[:100])
    if not minimum <= number <= maximum:
        raise BadResponse(f"{what} out of range", url=url, body=str(value)[:100])
    return number


def shaped(value, kind: type, *, url: str, what: str):
    """The answer when it has the shape callers rely on (dict, list, str), else BadResponse."""
    if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BadResponse(f"{what}: expected {kind.__name__}, got {type(value).__name__}", url=url,
                          body=str(value)[:100])
    return value


class HealthMixin:
    def _typed(self, kind: type, what: str, *segments, **options):
        return shaped(self._get(*segments, **options), kind, url=self.path_url(*segments), what=what)

    def version(self) -> str:
        """FluxOS version string, e.g. "8.17.0"."""
        return self._typed(str, "version", "flux", "version")

    def info(self) -> dict:
        """The whole /flux/info object (daemon, node status, benchmark, flux, apps, geolocation)."""
        return self._typed(dict, "flux info", "flux", "info")

    def is_arcane_os(self) -> bool:
        return bool(self._get("flux", "isarcaneos"))

    def node_tier(self) -> str:
        """`cumulus` | `nimbus` | `stratus`, with `_new` for the newer collaterals."""
        return self._typed(str, "node tier", "flux", "nodetier")

    def uptime(self) -> int:
        """Seconds the FluxOS process has been up."""
        return whole_number(self._get("flux", "uptime"), url=self.path_url("flux", "uptime"),
                            what="uptime", maximum=MAX_UPTIME_S)

    def node_zelid(self) -> str:
        """The node owner's ZelID (the admin of this node)."""
        return self._typed(str, "node ZelID", "flux", "id")

    def dos_state(self) -> dict:
        """`{dosState, dosMessage}`."""
        return self._typed(dict, "DOS state", "flux", "dosstate")

    def benchmarks(self) -> dict:
        """Fluxbench results (cores, ram, ssd, eps, speeds, tier status, systemsecure, …)."""
        return self._typed(dict, "benchmarks", "benchmark", "getbenchmarks")

    def benchmark_status(self) -> dict:
        return self._typed(dict, "benchmark status", "benchmark", "getstatus")

    def benchmark_info(self) -> dict:
        """fluxbench `{version, rpcport}`: FluxOS checks this version against
        minimumFluxBenchAllowedVersion."""
        return self._typed(dict, "benchmark info", "benchmark", "getinfo")

    def flux_node_status(self) -> dict:
        """fluxd getzelnodestatus: status (CONFIRMED, DOS, …), tier, heights, payment address."""
        return self._typed(dict, "node status", "daemon", "getfluxnodestatus")

    def daemon_getinfo(self) -> dict:
        """fluxd getinfo (public, cached 30 s; `balance` only for the admin): version, blocks,
        connections, errors."""
        return self._typed(dict, "daemon info", "daemon", "getinfo")

    def blockchain_info(self) -> dict:
        """fluxd getblockchaininfo: `blocks` (validated) against `headers` (known)."""
        return self._typed(dict, "blockchain info", "daemon", "getblockchaininfo")

    def block_count(self) -> int:
        return whole_number(self._get("daemon", "getblockcount"),
                            url=self.path_url("daemon", "getblockcount"), what="block count",
                            maximum=MAX_HEIGHT)

    def list_flux_nodes(self, filter: str | None = None) -> list:
        """The daemon's deterministic node list, optionally filtered by fluxd's substring filter
        (txhash, IP or payment address). The list carries payment addresses, not ZelIDs: a node's
        owner ZelID is only known from that node (`node_zelid`). Up to 64 MiB."""
        return self._typed(list, "node list", "daemon", "viewdeterministicfluxnodelist", filter,
                           limit=BIG_LIST_MAX_BODY)

    def connected_peers(self) -> list:
        """Outbound peer IPs."""
        return self._typed(list, "peers", "flux", "connectedpeers")

    def incoming_connections(self) -> list:
        return self._typed(list, "peers", "flux", "incomingconnections")

    def geolocation(self) -> dict:
        return self._typed(dict, "geolocation", "flux", "geolocation")

    def running_apps(self) -> list:
        """Docker container objects of the running Flux apps (cached 15 s by the node)."""
        return self._typed(list, "running apps", "apps", "listrunningapps")

    def installed_apps(self, app: str | None = None) -> list:
        """Specs of the apps installed on this node (optionally one app)."""
        return self._typed(list, "installed apps", "apps", "installedapps", app)

    def flux_usage(self) -> dict:
        """`{totalApps, runningApps, stoppedApps, nodeSpecs}`."""
        return self._typed(dict, "usage", "apps", "fluxusage")

    def apps_resources(self) -> dict:
        return self._typed(dict, "resources", "apps", "appsresources")

    # Syncthing (API port + 2) through FluxOS: Syncthing's own REST answers inside the envelope.
    def syncthing_health(self) -> dict:
        """`{status: "OK"}` while Syncthing runs."""
        return self._typed(dict, "syncthing health", "syncthing", "health")

    def syncthing_connections(self) -> dict:
        """`{connections: {deviceID: {connected, paused, address, …}}, total: {…}}`."""
        return self._typed(dict, "syncthing connections", "syncthing", "system", "connections")

    def syncthing_folders(self) -> list:
        """Folder configs `{id, label, path, type, paused, devices}`; FluxOS names an app's folder
        after the component's identifier (`flux<component>_<app>`)."""
        return self._typed(list, "syncthing folders", "syncthing", "config", "folders")

    def syncthing_folder_status(self, folder: str) -> dict:
        """Syncthing's db/status of one folder: `state` (idle, syncing, error, …), needFiles, errors."""
        return self._typed(dict, "syncthing folder", "syncthing", "db", "status", folder)


class IdentityMixin:
    def login_phrase(self) -> str:
        """A fresh one-time phrase issued by this node (valid 15 minutes, this node only). Its
        shape is the caller's to check (apps.wallets): a hostile node may send anything."""
        return shaped(self._get("id", "loginphrase", read_only=False), str,
                      url=self.path_url("id", "loginphrase"), what="login phrase")

    def emergency_phrase(self) -> str:
        """Like login_phrase but skips the node's health checks."""
        return shaped(self._get("id", "emergencyphrase", read_only=False), str,
                      url=self.path_url("id", "emergencyphrase"), what="login phrase")

    def verify_login(self, zelid: str, login_phrase: str, signature: str) -> dict:
        """Turn a signed phrase into a 14-day session; the reply's `privilage` (sic) says what."""
        body = {"zelid": zelid, "loginPhrase": login_phrase, "signature": signature}
        return self._post_text(("id", "verifylogin"), body)

    def check_privilege(self, zelid: str, signature: str, login_phrase: str) -> str:
        """`admin`, `fluxteam`, `user` or `none` for the given triple, as this node sees it."""
        body = {"zelid": zelid, "signature": signature, "loginPhrase": login_phrase}
        try:
            data = self._post_text(("id", "checkprivilege"), body)
        except FluxError as exc:
            if exc.message == "none":
                return "none"
            raise
        return data.get("message") if isinstance(data, dict) else data

    def logged_sessions(self) -> list:
        """The caller's sessions on this node (cache bypassed: the cache would serve anyone's)."""
        return shaped(self._get("id", "loggedsessions", auth=True, per_user=True), list,
                      url=self.path_url("id", "loggedsessions"), what="sessions")

    def logout(self) -> str:
        """End the session in this client's zelidauth."""
        return message_of(self._get("id", "logoutcurrentsession", auth=True, per_user=True,
                                    read_only=False))

    def logout_all_sessions(self) -> str:
        return message_of(self._get("id", "logoutallsessions", auth=True, per_user=True,
                                    read_only=False))

    def logout_specific_session(self, login_phrase: str) -> str:
        """FluxOS may write a warning and then the success message into one reply; the last
        object wins."""
        url = self.path_url("id", "logoutspecificsession")
        headers = self._headers(auth=True, per_user=False, content_type=TEXT_PLAIN)
        payload = json.dumps({"loginPhrase": login_phrase}, separators=(",", ":")).encode()
        response = self._fetch("POST", url, headers=headers, data=payload)
        return message_of(parse_envelope(response, url, allow_concatenated=True))
