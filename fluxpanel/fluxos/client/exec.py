"""Exec: run a command in an app's container (`POST /apps/appexec`, appInspector.appExec).

Only the app's owner may (FluxOS checks `appowner`: not the node admin, not the Flux team). The
body is FluxOS's raw-body kind (JSON as text/plain): `{appname: "<component>_<app>", cmd: [...],
env: [...]}`. The reply streams the command's output, demultiplexed by FluxOS into plain text
(stdout and stderr merged) under a Content-Type of application/json, gzip-encoded; refusals and
a missing container come instead as one error envelope.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from .addresses import component_name
from .streams import ExecStream
from .transport import TEXT_PLAIN


class ExecMixin:
    def exec_in_app(self, app: str, component: str | None, cmd: Sequence[str], *,
                    env: Sequence[str] = (), timeout=None) -> ExecStream:
        """Run `cmd` (argv list, no shell) in the component's container; iterate the stream for
        the output as it comes (`read_all()` for all of it)."""
        if isinstance(cmd, str) or not cmd or not all(isinstance(part, str) for part in cmd):
            raise ValueError("cmd is a non-empty list of strings (argv), not a shell line")
        body = {"appname": component_name(component, app), "cmd": list(cmd), "env": list(env)}
        url = self.path_url("apps", "appexec")
        payload = json.dumps(body, separators=(",", ":")).encode()
        response = self._stream(url, method="POST", content_type=TEXT_PLAIN, data=payload,
                                timeout=timeout)
        return ExecStream(response, url, self.stream_bounds)
