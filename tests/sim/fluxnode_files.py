"""Volume browser, backup endpoints and backup/restore tasks of a simulated node (reference §8).

Big archives stay on disk: a file-backed VNode is sent as a streamed file response with its
Content-Length (as Express's res.download), an upload larger than SPILL_BYTES is written to a
temporary file while it arrives, and a component's appdata can *be* a tar.gz on disk
(set_volume_archive, or the restore of such an upload), which its next backup then yields as is.
The transfer faults `cut` and `stall` (fluxnode_faults) act on file downloads and uploads here.
"""

from __future__ import annotations

import asyncio
import atexit
import email.utils
import hashlib
import io
import os
import re
import shutil
import tarfile
import tempfile

from aiohttp import web

from tests.sim import fluxnode_faults as faults
from tests.sim.fluxnode_apps import APPS_FOLDER, DockerError, iso_time, now_ms
from tests.sim.fluxnode_http import NodeStream, bare, content_type_for
from tests.sim.fluxnode_routes import UNAUTHORIZED, dumps, err, msg, ok

MULTIPLIERS = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}
# pathSecurity.isValidPathComponent's allowlist (sanitizePath runs in strict mode for volumes).
SAFE_COMPONENT = re.compile(r"[a-zA-Z0-9_\-. @#+=()\[\]{}]+")
# An upload past this size goes to a temporary file instead of memory (formidable writes to disk).
SPILL_BYTES = 8 * 1024 * 1024
SEND_PIECE = 1024 * 1024
_spill_dir: str | None = None


def spill_dir() -> str:
    """This process's folder for uploads kept on disk (removed when the process exits)."""
    global _spill_dir
    if _spill_dir is None:
        _spill_dir = tempfile.mkdtemp(prefix="fluxsim-uploads-")
        atexit.register(shutil.rmtree, _spill_dir, True)
    return _spill_dir


def _discard_spilled(node) -> None:
    """Delete the temporary file of a spilled upload that is replaced or removed."""
    path = getattr(node, "file_path", None)
    if path and _spill_dir and os.path.dirname(path) == _spill_dir:
        try:
            os.remove(path)
        except OSError:
            pass


def set_volume_archive(node, app: str, component: str, archive_path: str) -> str:
    """Make `component`'s appdata on `node` be the tar.gz at `archive_path` (never copied): its
    next appendbackuptask leaves that file as backup/local/backup_<c>.tar.gz. Returns the mount."""
    if not os.path.isabs(archive_path) or not os.path.isfile(archive_path):
        raise ValueError("archive_path is an absolute path to an existing file")
    container = node.app(app).container(component)
    if container is None:
        raise ValueError(f"Component {component} not found")
    container.volume.use_archive(archive_path)
    return container.volume.mount


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


def _file_headers(node, content_type: str | None) -> dict:
    """What res.download (send) puts on a file: its type from the extension, attachment,
    Accept-Ranges, Cache-Control, Last-Modified and a weak ETag of size and mtime."""
    size, modified = node.size(), node.modified
    return {"Content-Type": content_type or content_type_for(node.name),
            "Content-Disposition": f'attachment; filename="{node.name}"',
            "Accept-Ranges": "bytes", "Cache-Control": "public, max-age=0",
            "Last-Modified": email.utils.formatdate(modified / 1000, usegmt=True),
            "ETag": f'W/"{size:x}-{modified:x}"'}


async def _download(ctx, node, content_type: str | None = None):
    """res.download of a volume file. A small in-memory file is one reply (compression() then
    gzips compressible types of 1 kB or more); a file on disk, or any file while a transfer
    fault is armed, is streamed with its Content-Length and never read whole."""
    headers = _file_headers(node, content_type)
    fault = faults.transfer_fault(ctx.node)
    if fault is None and node.file_path is None:
        return web.Response(body=node.content, headers=headers)
    size = node.size()
    response = web.StreamResponse(headers=headers)
    response.content_length = size
    await response.prepare(ctx.request)
    limit = size if fault is None else min(size, fault[1])
    try:
        await _send_bytes(ctx.request, response, node, limit)
    except ConnectionError:  # the client went away: nothing more to send
        return response
    if fault is not None:
        await faults.end_transfer(fault[0], ctx.request, ctx.node)
        return response
    await response.write_eof()
    return response


async def _send_bytes(request, response, node, limit: int) -> None:
    if node.file_path is None:
        content = node.content
        for start in range(0, limit, SEND_PIECE):
            await response.write(content[start:min(limit, start + SEND_PIECE)])
        return
    left = limit
    with open(node.file_path, "rb") as handle:
        while left > 0:
            data = handle.read(min(SEND_PIECE, left))
            if not data:
                break
            left -= len(data)
            await response.write(data)


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
    return await _download(ctx, node)


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
    return web.Response(body=container.volume.zip_folder(path), headers={
        "Content-Type": "application/zip", "Content-Disposition": f'attachment; filename="{name}"'})


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
                "size": _scaled(node.size(), multiplier, decimal)}
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
    removed = container.volume.get(relative)
    try:
        container.volume.remove(relative)
    except ValueError as exc:
        return err(str(exc))
    _discard_spilled(removed)
    return msg("File removed successfully")


async def backup_downloadlocalfile(ctx):
    """backupRestoreService.downloadLocalFile: every failure is `res.json(errorEnvelope)` at
    HTTP 200 (so *with* a JSON Content-Type, unlike the volume browser's downloads); a file
    that is not there fails at its `sudo chmod 777`, whose execFile error is the message."""
    filepath, appname = ctx.param(0, "filepath"), ctx.param(1, "appname")
    if not filepath or not appname:
        return err("filepath and appname parameters are mandatory", "Error")
    if not ctx.allowed("appownerabove", appname):
        return UNAUTHORIZED
    try:
        sanitized(filepath[len(APPS_FOLDER) + 1:] if filepath.startswith(APPS_FOLDER + "/") else "")
    except ValueError:
        return err("Path validation failed..", "Error")
    container, relative, failure = _locate(ctx, filepath, appname)
    if failure:
        return err("Path validation failed..", "Error")
    node = container.volume.get(relative)
    if node is None:
        return err(f"Command failed: sudo chmod 777 {filepath}\nchmod: cannot access "
                   f"'{filepath}': No such file or directory\n", "Error", 1)
    if node.is_dir:  # chmod works on a folder; send then fails and Express's handler answers
        return web.Response(status=500, content_type="text/html",
                            text="<!DOCTYPE html><html><body><pre>Error: EISDIR, read</pre></body></html>")
    return await _download(ctx, node, "application/gzip")


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
                existing = container.volume.get(archive)
                if existing is not None:
                    yield f"Removing exists backup archive for {component.lower()}...\n"
                    container.volume.remove(archive)
                    _discard_spilled(existing)
                yield f"Creating backup archive for {component.lower()}...\n"
                source = container.volume.appdata_archive
                if source is not None:  # appdata *is* that tar.gz: the backup is the same bytes
                    container.volume.write_file_backed(archive, source)
                else:
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
        """advancedWorkflows.appendRestoreTask's order: every selected component's appdata is
        emptied first, then remote archives are fetched, then each archive is unpacked (a
        missing one fails only then: the data is already gone, as on a real node)."""
        app.restore_running = True
        try:
            yield "Stopping application...\n"
            for container in app.containers.values():
                if container.state != "stopped":
                    container.stop(now_ms())
            targets = []
            for job in selected:
                component = str(job.get("component"))
                container = app.container(component)
                if container is None:
                    yield f"Component {component} not found\n"
                    return
                yield f"Removing {component} component data...\n"
                container.volume.remove("appdata")
                container.volume.make_dir("appdata")
                targets.append((job, component, container))
            if source == "remote":
                for job, component, container in targets:
                    yield f"Downloading {job.get('url')}...\n"
                    container.volume.write(f"backup/remote/backup_{component.lower()}.tar.gz",
                                           _remote_archive(str(job.get("url"))))
            for _, component, container in targets:
                archive = f"backup/{source}/backup_{component.lower()}.tar.gz"
                yield f"Unpacking backup archive for {component.lower()}...\n"
                node = container.volume.get(archive)
                if node is None or node.is_dir:
                    yield (f"Error: Failed to unpack archive file for {component.lower()}, "
                           f"tar (child): {container.volume.mount}/{archive}: Cannot open: "
                           "No such file or directory\n")
                    return
                try:
                    if node.file_path is not None:  # a big archive stays packed, on disk
                        container.volume.use_archive(node.file_path)
                    else:
                        container.volume.untar_into("appdata", node.content)
                except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
                    yield (f"Error: Failed to unpack archive file for {component.lower()}, "
                           f"tar: {exc}\n")
                    return
                yield f"Removing backup file for {component.lower()}...\n"
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
    fault = faults.transfer_fault(ctx.node)
    cut_at = fault[1] if fault is not None and fault[0] == "cut" else None
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
        sink = _UploadSink()
        try:
            while chunk := await part.read_chunk(65536):  # formidable streams to disk, up to 10 GB
                received += len(chunk)
                if cut_at is not None and received >= cut_at:
                    sink.discard()
                    ctx.fleet.drop_connection(ctx.request)
                    return None
                sink.write(chunk)
        except BaseException:
            sink.discard()
            raise
        chunks.append(dumps([received, expected]))
        _make_dirs(container.volume, folder)  # fs.mkdir(filepath, { recursive: true })
        path = f"{folder}/{name}".strip("/")
        _discard_spilled(container.volume.get(path))
        if sink.path is not None:
            container.volume.write_file_backed(path, sink.close())
        else:
            container.volume.write(path, sink.close())
        saved.append(part.name)
    return web.Response(body=b"".join(chunks) + (saved[-1] if saved else "").encode(),
                        content_type="text/plain")


class _UploadSink:
    """An upload's bytes: in memory while small, then in a temporary file (SPILL_BYTES)."""

    def __init__(self):
        self.buffer = bytearray()
        self.path: str | None = None
        self._file = None

    def write(self, data: bytes) -> None:
        if self._file is not None:
            self._file.write(data)
            return
        self.buffer += data
        if len(self.buffer) > SPILL_BYTES:
            handle, self.path = tempfile.mkstemp(dir=spill_dir(), suffix=".tar.gz")
            self._file = os.fdopen(handle, "wb")
            self._file.write(self.buffer)
            self.buffer = bytearray()

    def close(self):
        """The bytes (small) or the file's path (spilled)."""
        if self._file is not None:
            self._file.close()
            return self.path
        return bytes(self.buffer)

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            os.remove(self.path)
            self._file = None


def _make_dirs(volume, folder: str) -> None:
    at = []
    for part in [p for p in folder.split("/") if p]:
        at.append(part)
        volume.make_dir("/".join(at))
