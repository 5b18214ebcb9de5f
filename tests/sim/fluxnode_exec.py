"""`POST /apps/appexec` of a simulated node (appManagement/appInspector.appExec).

FluxOS reads the raw body (JSON as text/plain; application/json is eaten by express.json() and
never answered), checks `appowner` on the main app name (not admin, not the Flux team), finds
the container by `/flux<component>_<app>`, and streams docker exec's output demultiplexed into
plain text under `Content-Type: application/json` (so compression() gzips it). A missing
container is a TypeError envelope; exec in a stopped container never answers at all (FluxOS
writes an object with res.write, which throws inside the callback). The simulated container
knows a few commands: echo, env, cat <file under its data mount>, true, false, seq [first] last
(written SEQ_CHUNK lines at a time, so a reader sees it stream), sleep <seconds> (output nothing
for that long); anything else is Docker's "executable file not found" text.
"""

from __future__ import annotations

import asyncio
import json

from tests.sim.fluxnode_apps import DockerError
from tests.sim.fluxnode_http import NodeStream
from tests.sim.fluxnode_routes import HANG_FOREVER_S, UNAUTHORIZED, err

SEQ_CHUNK = 500
MAX_SLEEP_S = 60.0


def _as_list(value):
    """serviceHelper.ensureObject on cmd/env: an array, or a JSON string of one."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, list) else None


def run(container, cmd: list[str], env: list[str]) -> list[bytes]:
    """The output chunks the command writes (stdout and stderr as docker would merge them)."""
    program, args = cmd[0], cmd[1:]
    if program == "echo":
        return [(" ".join(args) + "\n").encode()]
    if program == "env":
        base = list(container.spec.get("environmentParameters", [])) + list(env)
        return [("\n".join(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                            f"HOSTNAME={container.id[:12]}", *base]) + "\n").encode()]
    if program in ("true", "false", "sleep"):
        return []
    if program == "seq" and 1 <= len(args) <= 2 and all(a.lstrip("-").isdigit() for a in args):
        first, last = (int(args[0]), int(args[1])) if len(args) == 2 else (1, int(args[0]))
        numbers = range(first, last + 1)
        return [("".join(f"{n}\n" for n in numbers[i:i + SEQ_CHUNK])).encode()
                for i in range(0, len(numbers), SEQ_CHUNK)]
    if program == "cat":
        out = []
        mount = "/" + str(container.spec.get("containerData", "/data")).split(":")[-1].strip("/")
        for path in args:
            relative = path[len(mount):].strip("/") if path.startswith(mount) else None
            node = container.volume.get("appdata/" + relative) if relative is not None else None
            if node is None or node.is_dir:
                out.append(f"cat: {path}: No such file or directory\n".encode())
            else:
                out.append(node.content)
        return out
    return [(f'OCI runtime exec failed: exec failed: unable to start container process: exec: '
             f'"{program}": executable file not found in $PATH: unknown\r\n').encode()]


async def apps_appexec(ctx):
    body = await ctx.stream_object()
    appname = body.get("appname")
    if not appname:
        return err("No Flux App specified")
    if not body.get("cmd"):
        return err("No command specified")
    main = appname.split("_")[1] if "_" in appname else appname
    if not ctx.allowed("appowner", main):
        return UNAUTHORIZED
    cmd = _as_list(body.get("cmd"))
    env = _as_list(body.get("env") or []) or []
    try:
        container = ctx.node.container_for(appname)
    except DockerError:
        return err("Cannot read properties of undefined (reading 'Id')", "TypeError")
    if not cmd or not all(isinstance(part, str) for part in cmd):
        return err("json: cannot unmarshal string into Go struct field ExecConfig.Cmd of type []string")
    if container.state != "running":
        await asyncio.sleep(HANG_FOREVER_S)  # FluxOS's callback throws; no answer is ever sent
    stream = await NodeStream(ctx.request, "application/json").start()
    if cmd[0] == "sleep" and len(cmd) == 2:
        try:
            await asyncio.sleep(min(max(float(cmd[1]), 0.0), MAX_SLEEP_S))
        except ValueError:
            await stream.write(f"sleep: invalid time interval '{cmd[1]}'\n".encode())
    for chunk in run(container, cmd, env):
        await stream.write(chunk)
        await asyncio.sleep(ctx.fleet.stream_delay_s)
    return await stream.end()
