"""`/apps/testappinstall/<hash>` of a simulated node (appInstaller.testAppInstall, §7.1).

A user-level zelidauth may test-install a temporary message (a hash FluxOS holds from an
/apps/appregister or /apps/appupdate within its hour). Anything else needs the Flux team, so a
plain user asking for an unknown hash gets FluxOS's 401 envelope. The answer streams JSON objects
back to back under `application/json` (flushed, gzipped): the initial checks, Docker's pull
events, the volume and container steps per component, then FluxOS's final success envelope. The
test app is removed again afterwards: nothing stays installed.

Faults (set_testinstall_fault, per node): "fail" writes the error envelope of a step midway and
then, as FluxOS's test branch does, never ends the response; "hang" goes silent midway; "flood"
writes pull progress for ever.
"""

from __future__ import annotations

import asyncio

from tests.sim.fluxnode_http import NodeStream
from tests.sim.fluxnode_register import temporary_messages
from tests.sim.fluxnode_routes import HANG_FOREVER_S, UNAUTHORIZED, dumps, err, msg

FAULTS = ("fail", "hang", "flood")
DEFAULT_FAILURE = "Failed to start test_app container"
LAYERS = ("a1b2c3d4e5f6", "0f9e8d7c6b5a")


def set_testinstall_fault(fleet, index: int, kind: str | None, text: str = DEFAULT_FAILURE) -> None:
    faults = fleet.__dict__.setdefault("testinstall_faults", {})
    if kind is None:
        faults.pop(index, None)
    elif kind not in FAULTS:
        raise ValueError(f"unknown test install fault {kind!r}")
    else:
        faults[index] = (kind, text)


def pull_events(repotag: str) -> list[dict]:
    """dockerode's followProgress events, as FluxOS writes them (ensureString of each)."""
    image, _, tag = repotag.partition(":")
    events = [{"status": f"Pulling from {image}", "id": tag or "latest"}]
    for layer in LAYERS:
        events += [{"status": "Pulling fs layer", "progressDetail": {}, "id": layer},
                   {"status": "Downloading", "progressDetail": {"current": 5120, "total": 10240},
                    "progress": "[=========================>                         ]  5.12kB/10.24kB",
                    "id": layer},
                   {"status": "Download complete", "progressDetail": {}, "id": layer},
                   {"status": "Pull complete", "progressDetail": {}, "id": layer}]
    events.append({"status": f"Status: Downloaded newer image for {repotag}"})
    return events


def install_steps(spec: dict) -> tuple[list[dict], list[dict]]:
    """(the steps before the first component's container starts, the rest up to the end)."""
    name = spec["name"]
    head = [{"status": "Running initial checks for Flux App..."}, {"status": "Connecting to database..."},
            {"status": "Checking database..."}, {"status": f"Checking Flux App network of {name}..."},
            {"status": f"Flux App network of {name} initiated."},
            {"status": f"Initiating Flux App {name} installation..."}]
    tail = []
    for index, component in enumerate(spec.get("compose") or []):
        c = component["name"]
        steps = [{"status": f"Pulling component {c} of Flux App {name}..."}]
        steps += pull_events(component.get("repotag") or "runonflux/website:latest")
        steps += [{"status": f"Pulling component {c} of Flux App {name}"},
                  {"status": f"Creating volume of component {c}..."},
                  {"status": f"Verifying volume mount for component {c}..."},
                  {"status": f"Volume mount verified for component {c}"},
                  {"status": f"Creating component {c} of Flux App {name}"},
                  {"status": f"Starting component {c} of Flux App {name}..."}]
        (head if index == 0 else tail).extend(steps)
    return head, tail


async def _until_gone(ctx, seconds: float) -> None:
    """Keep the response open (writing nothing) until the client leaves or `seconds` pass."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        transport = ctx.request.transport
        if transport is None or transport.is_closing():
            return
        await asyncio.sleep(0.05)


async def apps_testappinstall(ctx):
    appname = ctx.param(0, "appname")
    if not appname:
        return err("No Flux App specified")
    if not ctx.allowed("user"):
        return UNAUTHORIZED
    message = temporary_messages(ctx.fleet, ctx.now).get(appname)
    if message is None:
        # Not a temporary message: only the Flux team may test a permanent app or message.
        if not ctx.allowed("adminandfluxteam"):
            return UNAUTHORIZED
        return err(f"Application Specifications of {appname} not found", "Error")
    spec = message["appSpecifications"]
    fault, text = getattr(ctx.fleet, "testinstall_faults", {}).get(ctx.node.index, (None, ""))
    head, tail = install_steps(spec)
    stream = await NodeStream(ctx.request, "application/json").start()
    try:
        for step in head:
            await stream.write(dumps(step))
            await asyncio.sleep(ctx.fleet.stream_delay_s)
        if fault == "fail":
            await stream.write(dumps(err(text, "Error")))
            await _until_gone(ctx, 30)  # FluxOS's test branch never calls res.end() here
            return stream.response
        if fault == "hang":
            await _until_gone(ctx, HANG_FOREVER_S)
            return stream.response
        if fault == "flood":
            filler = {"status": "Downloading", "progressDetail": {"current": 1, "total": 2},
                      "progress": "[" + "=" * 900 + "]", "id": LAYERS[0]}
            while ctx.request.transport is not None and not ctx.request.transport.is_closing():
                await stream.write(dumps(filler) * 64)
                await asyncio.sleep(0)
            return stream.response
        for step in tail:
            await stream.write(dumps(step))
            await asyncio.sleep(ctx.fleet.stream_delay_s)
        await stream.write(dumps(msg(f"Flux App {spec['name']} successfully installed and launched")))
    except (ConnectionError, RuntimeError):  # the client went away
        ctx.fleet.drop_connection(ctx.request)
        return stream.response
    return await stream.end()
