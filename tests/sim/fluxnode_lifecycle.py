"""Lifecycle routes of a simulated node: start/stop/…, removal and redeploy streams (§7)."""

from __future__ import annotations

import asyncio
import hashlib
import os

from tests.sim.fluxnode_apps import DockerError, now_ms
from tests.sim.fluxnode_http import NodeStream
from tests.sim.fluxnode_routes import (
    HANG_FOREVER_S,
    UNAUTHORIZED,
    dumps,
    ensure_bool,
    err,
    msg,
    ok,
)

# --------------------------------------------------------------------------- lifecycle

GLOBAL_WORDS = {"appstart": "start", "appstop": "stop", "apprestart": "restart",
                "apppause": "pause", "appunpause": "unpase"}  # sic, FluxOS's typo


# Instances that take time to restart, and lifecycle commands that fail on demand (issue 15 §8):
# keyed by (id of the fleet, node index); set from a test with `fleet.call(set_restart_time, ...)`.
# FLUXSIM_RESTART_MS="<min>-<max>" gives every node of a simulator process its own restart time.
RESTART_S: dict = {}
FAILURES: dict = {}


def set_restart_time(fleet, index: int, seconds: float | None) -> None:
    RESTART_S.pop((id(fleet), index), None) if seconds is None else RESTART_S.update({(id(fleet), index): seconds})


def set_lifecycle_failure(fleet, index: int, text: str | None) -> None:
    FAILURES.pop((id(fleet), index), None) if text is None else FAILURES.update({(id(fleet), index): text})


def env_restart_seconds(index: int) -> float:
    """The restart time FLUXSIM_RESTART_MS gives node `index` (0 when unset): spread evenly."""
    spec = os.environ.get("FLUXSIM_RESTART_MS", "")
    if not spec:
        return 0.0
    low, _, high = spec.partition("-")
    low_ms, high_ms = float(low), float(high or low)
    return (low_ms + (index * 7919 % 101) / 100 * (high_ms - low_ms)) / 1000


def restart_seconds(fleet, index: int) -> float:
    return RESTART_S.get((id(fleet), index), env_restart_seconds(index))


def _take_time(ctx, appname: str) -> None:
    """A restart (or start) whose containers come up only after the node's restart time."""
    delay = restart_seconds(ctx.fleet, ctx.node.index)
    if delay <= 0:
        return
    app = ctx.node.app(appname)
    containers = [c for c in app.containers.values() if "_" not in appname or c.name == appname]
    at = now_ms()
    for container in containers:
        if container.state == "running":
            container.stop(at)
    ctx.node.cache.clear()

    def come_up():
        for container in containers:
            if container.state == "stopped":
                container.start(now_ms())
        ctx.node.cache.clear()

    asyncio.get_running_loop().call_later(delay, come_up)


def apps_lifecycle(ctx):
    command = ctx.segments[1]
    appname = ctx.param(0, "appname")
    if not appname:
        return err("No Flux App specified")
    if not ctx.allowed("appownerabove", appname):
        return UNAUTHORIZED
    if ensure_bool(ctx.param(1, "global", False)):
        ctx.fleet.fan_out(ctx.node, appname, command, ctx.zelidauth)
        return msg(f"{appname} queried for global {GLOBAL_WORDS[command]}")
    failure = FAILURES.get((id(ctx.fleet), ctx.node.index))
    if failure:
        return err(failure)
    try:
        answer = ok(ctx.node.lifecycle(command, appname))
        if command in ("apprestart", "appstart"):
            _take_time(ctx, appname)
        return answer
    except DockerError as exc:
        return err(str(exc))


async def _stream_json(ctx, steps, final=None):
    """FluxOS's streamed JSON: objects back to back, each flushed (and gzipped) as written."""
    stream = await NodeStream(ctx.request, "application/json").start()
    for step in steps:
        await stream.write(dumps(step))
        await asyncio.sleep(ctx.fleet.stream_delay_s)
    if final is not None:
        await stream.write(dumps(final))
    return await stream.end()


def _image_error(repotag: str, user_id: str) -> dict:
    """What dockerode throws when the image is still used by another container (HTTP 409)."""
    return err(f'(HTTP code 409) conflict - conflict: unable to remove repository reference '
               f'"{repotag}" (must force) - container {user_id[:12]} is using its referenced '
               f'image {hashlib.sha256(repotag.encode()).hexdigest()[:12]} ', "Error")


def removal_steps(node, app, *, cleanup: bool = False) -> list:
    """appUninstaller.removeAppLocally → hardUninstallComponent per component (reversed), with the
    non-fatal image error where another container on the node uses the same image."""
    steps = []
    for container in reversed(list(app.containers.values())):
        c = f"component {container.spec['name']}"
        name = container.spec["name"]
        steps += [{"status": f"Stopping Flux App Component {name}..."},
                  {"status": f"Flux App Component {name} stopped"},
                  {"status": f"Removing Flux App component {name} container..."},
                  {"status": f"Flux App component {name} container removed"},
                  {"status": f"Denying {c} ports..."}, {"status": f"Ports of {c} denied"},
                  {"status": f"Unmounting volume of {c}..."}, {"status": f"Volume of {c} unmounted"},
                  {"status": f"Cleaning up {c} data..."}, {"status": f"Data of {c} cleaned"},
                  {"status": "Adjusting crontab..."}, {"status": "Crontab Adjusted."},
                  {"status": f"Cleaning up data volume of {c}..."}, {"status": f"Volume of {c} cleaned"},
                  {"status": f"Removing Flux App component {name} image..."}]
        user = node.image_user(container.spec["repotag"], app.name)
        if user is not None:
            steps.append(_image_error(container.spec["repotag"], user))
        steps += [{"status": f"Flux App component {name} image operations done"},
                  {"status": f"Flux App component {name} of {app.name} was successfully removed"}]
    steps += [{"status": "Cleaning up docker network..."}, {"status": "Docker network cleaned"},
              {"status": "Cleaning up database..."}, {"status": "Database cleaned"},
              msg(f"Removal step done. Result: Flux App {app.name} was successfuly removed")]
    return steps


def _busy(node):
    if node.removal_in_progress:
        return {"status": "warning",
                "data": {"message": "Another application is undergoing removal. Removal not possible."}}
    return None


async def apps_appremove(ctx):
    appname = ctx.param(0, "appname")
    if not appname:
        return err("No App specified")
    if "_" in appname:
        return err("Components cannot be removed manually")
    if not ctx.allowed("appownerabove", appname):
        return UNAUTHORIZED
    force = ensure_bool(ctx.param(1, "force", False)) or False
    if ensure_bool(ctx.param(2, "global", False)):
        ctx.fleet.fan_out(ctx.node, appname, "appremove", ctx.zelidauth, "true" if force else "false")
        return msg(f"{appname} queried for global reinstallation")
    busy = None if force else _busy(ctx.node)
    if busy:
        return await _stream_json(ctx, [busy])
    try:
        app = ctx.node.app(appname)
    except DockerError as exc:
        return await _stream_json(ctx, [err(str(exc), "Error")])
    steps = removal_steps(ctx.node, app)
    ctx.node.remove_app(app.name)
    return await _stream_json(ctx, steps)


async def apps_redeploy(ctx):
    appname = ctx.param(0, "appname")
    if not appname:
        return err("No Flux App specified")
    if not ctx.allowed("appownerabove", appname):
        return UNAUTHORIZED
    force = ensure_bool(ctx.param(1, "force", False)) or False
    mode = "hard" if force else "soft"
    if ensure_bool(ctx.param(2, "global", False)):
        ctx.fleet.fan_out(ctx.node, appname, "redeploy", ctx.zelidauth, "true" if force else "false")
        return msg(f"{appname} queried for global {mode} redeploy")
    try:
        app = ctx.node.app(appname)
    except DockerError as exc:
        return err(str(exc))
    if app.restore_running:
        await asyncio.sleep(HANG_FOREVER_S)  # FluxOS returns without ever answering
    busy = _busy(ctx.node)
    if busy:
        return await _stream_json(ctx, [{"status": "warning",
                                         "data": {"message": "Another application is undergoing removal"}}])
    steps = []
    for container in app.containers.values():
        steps += [{"status": f"Stopping Flux App Component {container.spec['name']}..."},
                  {"status": f"Removing Flux App component {container.spec['name']} container..."}]
    steps.append(msg("Application removed. Awaiting installation..." if force
                     else "Application softly removed. Awaiting installation..."))
    failure = ctx.node.install_failure
    if failure:
        # appInstaller.registerAppLocally's catch: the error, the removal notice, then the
        # clean-up removal, whose own success closes the stream.
        steps += [{"status": f"Pulling component {c.spec['name']} image..."} for c in app.containers.values()]
        steps += [err(failure, "Error"), err(f"Error occured. Initiating Flux App {app.name} removal")]
        steps += removal_steps(ctx.node, app)
        ctx.node.remove_app(app.name)
        return await _stream_json(ctx, steps)
    for container in app.containers.values():
        steps += [{"status": f"Creating Flux App component {container.spec['name']} container..."},
                  {"status": f"Starting Flux App component {container.spec['name']}..."}]
    ctx.fleet.redeploy_local(ctx.node, app.name, force)
    return await _stream_json(ctx, steps, msg(f"Flux App {app.name} successfully installed and launched"))


async def apps_redeploycomponent(ctx):
    appname = ctx.param(0, "appname")
    component = ctx.param(1, "component")
    if not appname or not component:
        return err("No Flux App or component specified")
    if "_" in appname:
        return err("Application name must not contain a component")
    if not ctx.allowed("appownerabove", appname):
        return UNAUTHORIZED
    try:
        container = ctx.node.app(appname).container(component)
        if container is None:
            raise DockerError(f"Component {component} not found in {appname}")
    except DockerError as exc:
        return err(str(exc))
    steps = [{"status": f"Stopping Flux App {container.name}..."},
             {"status": f"Removing Flux App {container.name} container..."},
             {"status": f"Starting Flux App {container.name}..."}]
    container.restart(now_ms())
    return await _stream_json(ctx, steps, msg(f"Component {component} of {appname} redeployed successfully"))
