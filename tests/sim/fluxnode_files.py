"""Volume browser, backup endpoints and backup/restore tasks of a simulated node (reference §8)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import tarfile

from aiohttp import web

from tests.sim.fluxnode_apps import APPS_FOLDER, DockerError, iso_time, now_ms
from tests.sim.fluxnode_http import NodeStream, bare, content_type_for
from tests.sim.fluxnode_routes import UNAUTHORIZED, dumps, err, msg, ok

MULTIPLIERS = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}
# pathSecurity.isValidPathComponent's allowlist (sanitizePath runs in strict mode for volumes).
SAFE_COMPONENT = re.compile(r"[a-zA-Z0-9_\-. @#+=()\[\]{}]+")


def sanitized(path) -> str:
    """pathSecurity.sanitizePath(path, mount) in strict mode, relative to the mount: the same
    refusals with the same messages (ValueError), so a node refuses what FluxOS refuses."""
    if not path:
        return ""
    if "\x00" in path:
        raise ValueError("Invalid path: null bytes not allowed")
    if "\\" in path:
        raise ValueError("Invalid path: backslashes are not allowed")
    parts = path.split("/")
    if ".." in parts:
        raise ValueError("Invalid path: directory traversal not allowed")
    if path.startswith("/"):
        raise ValueError("Invalid path: absolute paths not allowed")
    for index, part in enumerate(parts):
        if part == "" and index == len(parts) - 1:
            continue
        if part == "":
            raise ValueError("Invalid path: empty path component (double slash)")
        if part == "." or not SAFE_COMPONENT.fullmatch(part):
            raise ValueError(f'Invalid path: component "{part}" contains disallowed characters')
    return path.strip("/")


def valid_filename(name) -> str:
    """pathSecurity.validateFilename (an upload's saved name)."""
    if not name:
        raise ValueError("Filename must be a non-empty string")
    if "\x00" in name:
        raise ValueError("Invalid filename: null bytes not allowed")
    if "/" in name or "\\" in name:
        raise ValueError("Invalid filename: path separators not allowed")
    if name in (".", ".."):
        raise ValueError("Invalid filename: reserved name")
    return name


def _volume(ctx, appname, component):
    """(container, failure) after the appownerabove check on the main app name."""
    if not appname or not component:
        return None, err("appname and component parameters are mandatory")
    if not ctx.allowed("appownerabove", appname):
        return None, UNAUTHORIZED
    try:
        container = ctx.node.app(appname).container(component)
    except DockerError as exc:
        return None, err(str(exc))
    if container is None:
        return None, err(f"Component {component} not found")
    return container, None


# --------------------------------------------------------------------------- volume browser


def apps_getfolderinfo(ctx):
    container, failure = _volume(ctx, ctx.param(0, "appname"), ctx.param(1, "component"))
    if failure:
        return failure
    try:
        folder = container.volume.get(sanitized(ctx.param(2, "folder", "")))
    except ValueError as exc:
        return err(str(exc))
    if folder is None or not folder.is_dir:
        return err("Folder does not exist")
    return ok([{"name": node.name, "size": node.size(), "isDirectory": node.is_dir,
                "isFile": not node.is_dir, "isSymbolicLink": False,
                "createdAt": iso_time(node.created), "modifiedAt": iso_time(node.modified)}
               for node in sorted(folder.children.values(), key=lambda n: n.name)])


def apps_createfolder(ctx):
    container, failure = _volume(ctx, ctx.param(0, "appname"), ctx.param(1, "component"))
    if failure:
        return failure
    try:
        container.volume.make_dir(sanitized(ctx.param(2, "folder", "")))
    except ValueError as exc:
        return err(str(exc))
    return msg("Folder Created")


def apps_renameobject(ctx):
    container, failure = _volume(ctx, ctx.param(0, "appname"), ctx.param(1, "component"))
    if failure:
        return failure
    old_path, new_name = ctx.param(2, "oldpath", ""), ctx.param(3, "newname", "")
    if not old_path or not new_name or "/" in new_name:
        return err("Invalid new name")
    try:
        old_path, _ = sanitized(old_path), sanitized(new_name)
    except ValueError as exc:
        return err(str(exc))
    try:
        parent, name = container.volume.parent_of(old_path)
        node = parent.children.pop(name)
    except (ValueError, KeyError):
        return err("File or folder does not exist")
    node.name = new_name
    node.modified = now_ms()
    parent.children[new_name] = node
    return msg("Rename successful")


async def apps_removeobject(ctx):
    container, failure = _volume(ctx, ctx.param(0, "appname"), ctx.param(1, "component"))
    if failure:
        return failure
    target = ctx.param(2, "object", "") or ""
    if not target:
        return err("No object specified")
    try:
        container.volume.remove(sanitized(target))
    except ValueError as exc:
        return await _download_failed(ctx, err(str(exc), "Error"))  # its catch writes, as downloads do
    return msg("File Removed")


def _download(content: bytes, filename: str, content_type: str | None = None):
    """res.download: type from the extension, Content-Disposition attachment (compression()
    then gzips compressible types of 1 kB or more)."""
    return web.Response(body=content, headers={
        "Content-Type": content_type or content_type_for(filename),
        "Content-Disposition": f'attachment; filename="{filename}"'})


async def _download_failed(ctx, envelope: dict):
    """downloadAppsFile's catch: `res.write(ensureString(error)); res.end()` at HTTP 200, with no
    Content-Type."""
    return await bare(ctx.request, dumps(envelope))


async def apps_downloadfile(ctx):
    container, failure = _volume(ctx, ctx.param(0, "appname"), ctx.param(1, "component"))
    if failure:
        return failure
    path = ctx.param(2, "file", "") or ""
    if not path:
        return err("file and component parameters are mandatory")
    try:
        node = container.volume.get(sanitized(path))
    except ValueError as exc:
        return await _download_failed(ctx, err(str(exc), "Error"))
    if node is None or node.is_dir:
        full = f"{container.volume.mount}/{path.strip('/')}"
        return await _download_failed(ctx, err(f"ENOENT: no such file or directory, realpath '{full}'",
                                               "Error", "ENOENT"))
    return _download(node.content, node.name)


async def apps_downloadfolder(ctx):
    container, failure = _volume(ctx, ctx.param(0, "appname"), ctx.param(1, "component"))
    if failure:
        return failure
    path = ctx.param(2, "folder", "") or ""
    if not path:  # FluxOS zips no mount root
        return err("folder and component parameters are mandatory")
    try:
        path = sanitized(path)
        node = container.volume.get(path)
    except ValueError as exc:
        return await _download_failed(ctx, err(str(exc), "Error"))
    if node is None or not node.is_dir:
        return err("Folder does not exist")
    name = (path.rstrip("/").rsplit("/", 1)[-1] or container.name) + ".zip"
    return _download(container.volume.zip_folder(path), name, "application/zip")


# --------------------------------------------------------------------------- /backup/*


def _scaled(value: int, multiplier: str, decimal) -> float:
    factor = MULTIPLIERS.get(str(multiplier).upper(), MULTIPLIERS["MB"])
    digits = int(decimal) if str(decimal).isdigit() else 0
    return round(value / factor, digits) if digits else int(round(value / factor))


def backup_getvolumedataofcomponent(ctx):
    container, failure = _volume(ctx, ctx.param(0, "appname"), ctx.param(1, "component"))
    if failure:
        return failure
    multiplier, decimal = ctx.param(2, "multiplier", "MB"), ctx.param(3, "decimal", "0")
    size = container.spec["hdd"] * 1024 ** 3
    used = container.volume.used_bytes() + 52_428_800
    entry = {"mount": container.volume.mount, "size": _scaled(size, multiplier, decimal),
             "used": _scaled(used, multiplier, decimal),
             "available": _scaled(size - used, multiplier, decimal),
             "capacity": round(used / size, 4), "filesystem": f"/dev/loop{container.id[:2]}"}
    fields = ctx.param(4, "fields")
    if fields:
        entry = {key: value for key, value in entry.items() if key in fields.split(",")}
    return ok(entry)


def _locate(ctx, host_path: str, appname: str):
    """Container and volume-relative path for a host path inside an app's backup folders."""
    if not host_path or not host_path.startswith(APPS_FOLDER + "/"):
        return None, None, err("Invalid path")
    if not any(part in host_path for part in ("/backup/local", "/backup/remote", "/backup/upload")):
        return None, None, err("Invalid path")
    try:
        app = ctx.node.app(appname)
    except DockerError as exc:
        return None, None, err(str(exc))
    for container in app.containers.values():
        relative = container.volume.host_path_to_relative(host_path)
        if relative is not None:
            return container, relative, None
    return None, None, err("Invalid path")


def backup_getlocalbackuplist(ctx):
    path, multiplier, decimal = ctx.param(0, "path"), ctx.param(1, "multiplier", "MB"), ctx.param(2, "decimal", "0")
    appname = ctx.param(4, "number")  # FluxOS's own bug: the query fallback reads `number`
    if not ctx.allowed("appownerabove", appname or ""):
        return UNAUTHORIZED
    container, relative, failure = _locate(ctx, path, appname)
    if failure:
        return failure
    folder = container.volume.get(relative)
    if folder is None or not folder.is_dir:
        return ok([])
    return ok([{"name": node.name, "create": str(node.created),
                "size": _scaled(len(node.content), multiplier, decimal)}
               for node in folder.children.values() if node.name.endswith(".tar.gz")])


def backup_getremotefilesize(ctx):
    url, multiplier, decimal = ctx.param(0, "fileurl"), ctx.param(1, "multiplier", "MB"), ctx.param(2, "decimal", "0")
    appname = ctx.param(4, "appname")
    if not ctx.allowed("appownerabove", appname or ""):
        return UNAUTHORIZED
    if not url or not url.startswith(("http://", "https://")):
        return err("Invalid URL")
    size = int(hashlib.sha256(url.encode()).hexdigest()[:6], 16) * 64  # the sim has no network
    return ok(_scaled(size, multiplier, decimal))


def backup_removebackupfile(ctx):
    filepath, appname = ctx.param(0, "filepath"), ctx.param(1, "appname")
    if not ctx.allowed("appownerabove", appname or ""):
        return UNAUTHORIZED
    container, relative, failure = _locate(ctx, filepath, appname)
    if failure:
        return failure
    try:
        container.volume.remove(relative)
    except ValueError as exc:
        return err(str(exc))
    return msg("File removed successfully")


async def backup_downloadlocalfile(ctx):
    filepath, appname = ctx.param(0, "filepath"), ctx.param(1, "appname")
    if not ctx.allowed("appownerabove", appname or ""):
        return UNAUTHORIZED
    container, relative, failure = _locate(ctx, filepath, appname)
    if failure:
        return failure
    node = container.volume.get(relative)
    if node is None or node.is_dir:
        return await _download_failed(ctx, err("File does not exist", "Error"))
    return _download(node.content, node.name, "application/gzip")


# --------------------------------------------------------------------------- tasks


async def _lines(ctx, produce):
    """advancedWorkflows.sendChunk: each text (already ending in a newline) plus one more newline,
    flushed; res.write with no Content-Type, so the reply has none and is never compressed."""
    stream = await NodeStream(ctx.request, None).start()
    for line in produce():
        await stream.write(f"{line}\n".encode())
        await asyncio.sleep(ctx.fleet.stream_delay_s)
    return await stream.end()


async def _failed(ctx, message: str):
    """A task's early `throw new Error(...)`: the bare message text, not an envelope."""
    return await _lines(ctx, lambda: iter([f"{message}\n"]))


async def apps_appendbackuptask(ctx):
    body = await ctx.json_body()
    appname, jobs = body.get("appname"), body.get("backup")
    if not appname or not jobs:
        return await _failed(ctx, "appname and backup parameters are mandatory")
    selected = [job.get("component") for job in jobs if isinstance(job, dict) and job.get("backup")]
    try:
        app = ctx.node.app(appname)
    except DockerError:
        app = None
    if app is not None and app.backup_running:
        return await _failed(ctx, "Backup in progress...")
    if not selected:
        return await _failed(ctx, "No backup jobs...")
    if not ctx.allowed("appownerabove", appname):
        return UNAUTHORIZED
    if app is None:
        return await _failed(ctx, "Cannot read properties of null (reading 'compose')")

    def produce():
        app.backup_running = True
        try:
            at = now_ms()
            yield "Stopping application...\n"
            for container in app.containers.values():
                if container.state != "stopped":
                    container.stop(at)
            for component in selected:
                container = app.container(component)
                if container is None:
                    yield f"Component {component} not found\n"
                    return
                archive = f"backup/local/backup_{component.lower()}.tar.gz"
                if container.volume.get(archive) is not None:
                    yield f"Removing exists backup archive for {component.lower()}...\n"
                    container.volume.remove(archive)
                yield f"Creating backup archive for {component.lower()}...\n"
                container.volume.write(archive, container.volume.tar_folder("appdata"))
            yield "Starting application...\n"
            for container in app.containers.values():
                container.start(now_ms())
            yield "Finalizing...\n"
        finally:
            app.backup_running = False

    return await _lines(ctx, produce)


async def apps_appendrestoretask(ctx):
    body = await ctx.json_body()
    appname, jobs, source = body.get("appname"), body.get("restore"), body.get("type")
    if not appname or not jobs or not source:
        return await _failed(ctx, "appname, restore and type parameters are mandatory")
    try:
        app = ctx.node.app(appname)
    except DockerError:
        app = None
    if app is not None and app.restore_running:
        return await _failed(ctx, f"Restore for app {appname} is running...")
    selected = [job for job in jobs if isinstance(job, dict) and job.get("restore")]
    if not selected:
        return await _failed(ctx, "No restore jobs...")
    if not ctx.allowed("appownerabove", appname):
        return UNAUTHORIZED
    if app is None:
        return await _failed(ctx, "Cannot read properties of null (reading 'compose')")

    def produce():
        app.restore_running = True
        try:
            yield "Stopping application...\n"
            for container in app.containers.values():
                if container.state != "stopped":
                    container.stop(now_ms())
            for job in selected:
                component = str(job.get("component"))
                container = app.container(component)
                if container is None:
                    yield f"Component {component} not found\n"
                    return
                archive = f"backup/{source}/backup_{component.lower()}.tar.gz"
                if source == "remote":
                    yield f"Downloading {job.get('url')}...\n"
                    container.volume.write(archive, _remote_archive(str(job.get("url"))))
                node = container.volume.get(archive)
                if node is None:
                    yield (f"Error: Failed to unpack archive file for {component.lower()}, "
                           "no such file\n")
                    return
                yield f"Removing appdata of {component.lower()}...\n"
                container.volume.remove("appdata")
                container.volume.make_dir("appdata")
                yield f"Restoring backup archive for {component.lower()}...\n"
                container.volume.untar_into("appdata", node.content)
                container.volume.remove(archive)
            yield "Starting application...\n"
            for container in app.containers.values():
                container.start(now_ms())
            yield "Finalizing...\n"
        finally:
            app.restore_running = False

    return await _lines(ctx, produce)


def _remote_archive(url: str) -> bytes:
    """What a remote URL 'serves' in the sim (no network): one file naming the URL."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        content = f"restored from {url}\n".encode()
        info = tarfile.TarInfo("restored.txt")
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


async def ioutils_fileupload(ctx):
    """Multipart upload into the component volume; progress arrays then the field name. On missing
    privilege or parameters FluxOS destroys the connection, so does the sim."""
    upload_type, appname, component = ctx.param(0, "type"), ctx.param(1, "appname"), ctx.param(2, "component")
    folder, filename = ctx.param(3, "folder"), ctx.param(4, "filename")
    container = None
    if upload_type and appname and component and ctx.allowed("appownerabove", appname):
        try:
            container = ctx.node.app(appname).container(component)
            folder = "backup/upload" if upload_type == "backup" else sanitized(folder)
        except (DockerError, ValueError):
            container = None
    if container is None:
        ctx.fleet.drop_connection(ctx.request)
        return None
    expected = ctx.request.content_length or 0
    received = 0
    chunks = []
    saved = []
    reader = await ctx.request.multipart()
    async for part in reader:
        try:  # fileBegin: a bad name is formidable's 'error' event, written into the reply
            name = valid_filename(filename or part.name)
        except ValueError as exc:
            chunks.append(dumps(err(str(exc))))
            break
        data = bytearray()
        while chunk := await part.read_chunk(65536):  # formidable streams to disk, up to 10 GB
            data += chunk
        received += len(data)
        chunks.append(dumps([received, expected]))
        _make_dirs(container.volume, folder)  # fs.mkdir(filepath, { recursive: true })
        container.volume.write(f"{folder}/{name}".strip("/"), bytes(data))
        saved.append(part.name)
    return web.Response(body=b"".join(chunks) + (saved[-1] if saved else "").encode(),
                        content_type="text/plain")


def _make_dirs(volume, folder: str) -> None:
    at = []
    for part in [p for p in folder.split("/") if p]:
        at.append(part)
        volume.make_dir("/".join(at))
