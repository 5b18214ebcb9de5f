"""The one HTTP client the panel uses to talk to a FluxOS node.

Every FluxOS quirk lives in this package and nowhere else (see shared/reference/fluxos-api.md §0,
§1, and FluxOS's own ZelBack/src):
- errors come inside HTTP 200 as `{"status": "error", "data": {...}}`; they become typed
  exceptions (errors.py) so callers never look at bodies or status codes;
- most POST handlers read the raw body themselves, so JSON must go out as a string with
  `Content-Type: text/plain` (with application/json the node never answers); the backup and
  restore tasks are the exception and need application/json;
- privileged calls carry a `zelidauth` header in its JSON form;
- GET routes are cached by URL regardless of who asks, so per-user reads send
  `x-apicache-bypass: true`;
- components are addressed as `component_app`, and path parameters are URL-encoded;
- compression() is in front of every route: streamed replies (no length) and JSON answers of
  1 kB or more come gzip-encoded, so raw socket readers decode (streams.iter_raw_chunks);
- streams carry non-fatal errors: a removal writes Docker's "image in use" error envelope and
  goes on to succeed; the outcome is decided at the end (streams.JsonObjectStream);
- backup/restore tasks write plain text, errors included, and end with "Finalizing..." when
  they worked (streams.TextLineStream);
- log polling's `since` is cut to the millisecond and inclusive: following must count lines of
  that millisecond (logs.LogFollower);
- a file download is told from an error by Content-Disposition: a `.json` file is
  application/json, an error envelope comes at HTTP 200 with no Content-Type (files.py);
- exec output is plain text labelled application/json (exec.py).

Untrusted peers: every answer is read capped (8 MiB by default, 64 MiB for the big lists) within
a total deadline per call (connect + headers + body: `deadline_s`, else connect + read timeout),
and streams are bounded in size, duration and trickle. Connections: one pooled requests.Session
per thread, checked and pinned by fluxpanel.netguard (private addresses only with
`allow_private`), a small retry only for read-only GETs that failed to connect. No Django import.

Modules: transport (requests, bounds, envelope), deadline (the per-call watchdog), addresses,
errors, streams, and one mixin per area: health (health + identity), specs, lifecycle, logs,
files, backups, exec, explorer.
"""

from __future__ import annotations

from .addresses import (
    ALLOWED_API_PORTS,
    DEFAULT_API_PORT,
    NodeAddress,
    component_name,
    parse_node_address,
)
from .backups import BackupsMixin
from .errors import (
    UNAUTHORIZED_MESSAGE,
    BadResponse,
    FluxClientError,
    FluxError,
    NodeTimeout,
    NodeUnreachable,
    Unauthorized,
)
from .exec import ExecMixin
from .explorer import ExplorerMixin
from .files import FilesMixin
from .health import MAX_HEIGHT, HealthMixin, IdentityMixin, whole_number
from .lifecycle import LifecycleMixin
from .logs import LogFollower, LogsMixin
from .nodeadmin import NodeAdminMixin
from .specs import AppSpecsMixin
from .streams import (
    ExecStream,
    JsonObjectStream,
    LogPoll,
    StreamBounds,
    TestInstallStream,
    TextLineStream,
    parse_log_poll,
)
from .transport import (
    BIG_LIST_MAX_BODY,
    DEFAULT_MAX_BODY,
    DEFAULT_TIMEOUT,
    STREAM_READ_TIMEOUT,
    SUBMIT_READ_TIMEOUT,
    Transport,
    format_zelidauth_header,
    parse_envelope,
    parse_upload_progress,
    thread_session,
)

__all__ = [
    "ALLOWED_API_PORTS", "BIG_LIST_MAX_BODY", "DEFAULT_API_PORT", "DEFAULT_MAX_BODY",
    "DEFAULT_TIMEOUT", "MAX_HEIGHT", "STREAM_READ_TIMEOUT", "SUBMIT_READ_TIMEOUT",
    "UNAUTHORIZED_MESSAGE", "BadResponse", "ExecStream", "FluxClientError", "FluxError",
    "JsonObjectStream", "LogFollower", "LogPoll", "NodeAddress", "NodeClient", "NodeTimeout",
    "NodeUnreachable", "StreamBounds", "TestInstallStream", "TextLineStream", "Unauthorized", "component_name",
    "format_zelidauth_header", "parse_envelope", "parse_log_poll", "parse_node_address",
    "parse_upload_progress", "thread_session", "whole_number",
]


class NodeClient(HealthMixin, IdentityMixin, AppSpecsMixin, LifecycleMixin, LogsMixin,
                 FilesMixin, BackupsMixin, ExecMixin, NodeAdminMixin, ExplorerMixin, Transport):
    """Typed access to one FluxOS node's HTTP API.

    `base_url` is opaque (a real node is `http://IP:16127`; a simulated one carries a path prefix).
    `zelidauth` is the session triple (header string or mapping) sent on privileged calls.
    `verify_tls=False` is only accepted for an https base URL: it exists for the node's self-signed
    certificate on the API port + 1 and for nothing else. `allow_private` lets the client call
    loopback/private addresses (development only; Django code decides through
    apps.nodes.clients.node_client). `deadline_s` bounds every call in total.
    """
