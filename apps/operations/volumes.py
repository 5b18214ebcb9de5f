"""The volume browser's rules and calls (issue 15 item 7): paths inside a component's volume,
the listing as the panel shows it, and each call to the instance's node.

- Paths are relative to the component mount (`appdata/sub`, "" = the mount root), as FluxOS takes
  them (reference §8.4). `volume_path` normalises and refuses anything that could leave the volume
  *before* a node is asked: FluxOS checks too (utils/pathSecurity.sanitizePath, strict mode), but a
  node is an untrusted peer and the panel does not rely on it to keep paths in.
- The characters allowed in a name are FluxOS's own allowlist (pathSecurity.isValidPathComponent),
  so the panel never sends a name the node would refuse, and a name with `%`, `~`, `:`, quotes or
  control characters never reaches a URL.
- A listing is an untrusted answer: it must be a list of entries of the documented shape; a bad
  entry is dropped and counted, a non-list answer is an error, at most MAX_ENTRIES are shown.
"""
from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote

from fluxpanel.fluxos.client.streams import StreamBounds

# FluxOS's allowlist for one path component (strict mode of sanitizePath).
NAME_CHARS = re.compile(r"[A-Za-z0-9_\-. @#+=()\[\]{}]+")
ALLOWED_TEXT = "letters, digits, space and - _ . @ # + = ( ) [ ] { }"
MAX_NAME = 255  # a Linux file name
MAX_PATH = 1024
MAX_DEPTH = 32
MAX_ENTRIES = 2000  # rows shown of one folder
MAX_SIZE = 2 ** 53  # larger than any volume; a bigger "size" is garbage
# A download through the panel: written to a temporary file first (so an error is known before
# the browser gets headers), bounded in size and time.
DOWNLOAD_BOUNDS = StreamBounds(max_bytes=4 * 1024 ** 3, max_seconds=3600.0, stall_s=60.0)
DOWNLOAD_SPOOL = 8 * 1024 * 1024  # kept in memory below this, on disk above


class PathRefused(ValueError):
    """A path or name the panel will not send to a node; str() says why, for the person."""


class VolumeError(Exception):
    """A call that failed on the node or its answer; str() says why."""


def volume_name(name: str, *, what: str = "A name") -> str:
    """One file or folder name (no path): FluxOS's allowed characters, no `.`/`..`."""
    if not isinstance(name, str) or not name:
        raise PathRefused(f"{what} is empty.")
    if "\x00" in name:
        raise PathRefused(f"{what} contains a NUL character.")
    if "/" in name or "\\" in name:
        raise PathRefused(f"{what} is a single name, without / or \\.")
    if name in (".", ".."):
        raise PathRefused(f"{what} cannot be “{name}”: it would leave the folder.")
    if len(name) > MAX_NAME:
        raise PathRefused(f"{what} is longer than {MAX_NAME} characters.")
    if "%" in name and unquote(name) != name:
        raise PathRefused(f"{what} is percent-encoded (“{name[:60]}”); type the name itself.")
    if not NAME_CHARS.fullmatch(name):
        raise PathRefused(f"“{name[:60]}”: FluxOS only accepts {ALLOWED_TEXT} in names.")
    return name


def volume_path(path: str | None) -> str:
    """The normalised path inside the volume ("" = the mount root), or PathRefused.

    Accepted: `appdata`, `appdata/sub/`, `./appdata` (one trailing slash and `.` components are
    dropped). Refused: `..` anywhere (also percent-encoded, even twice), absolute paths,
    backslashes, NUL and control characters, empty components (`a//b`), `~` (home), and any
    character outside FluxOS's allowlist."""
    if path is None:
        return ""
    if not isinstance(path, str):
        raise PathRefused("A path is text.")
    if len(path) > MAX_PATH:
        raise PathRefused(f"The path is longer than {MAX_PATH} characters.")
    decoded = path
    for _ in range(3):  # %252e%252e → %2e%2e → ..: refuse what any decoding round would make
        decoded = unquote(decoded)
    for text in (path, decoded):
        if "\x00" in text:
            raise PathRefused("The path contains a NUL character.")
        if "\\" in text:
            raise PathRefused("The path contains a backslash; folders are separated by /.")
        if ".." in text.split("/"):
            raise PathRefused("The path leaves the volume: “..” is not allowed.")
    if decoded != path:
        raise PathRefused("The path is percent-encoded; give it as plain text.")
    if path.startswith("/"):
        raise PathRefused("The path is absolute; paths start at the volume root (e.g. appdata/sub).")
    if path.startswith("~"):
        raise PathRefused("The path starts with ~; paths start at the volume root (e.g. appdata/sub).")
    parts = path.removesuffix("/").split("/") if path else []
    parts = [part for part in parts if part != "."]
    if "" in parts:
        raise PathRefused("The path has an empty folder name (//).")
    if len(parts) > MAX_DEPTH:
        raise PathRefused(f"The path is deeper than {MAX_DEPTH} folders.")
    for part in parts:
        volume_name(part, what="A folder or file name in the path")
    return "/".join(parts)


def join(folder: str, name: str) -> str:
    """`name` inside `folder`, both checked."""
    folder, name = volume_path(folder), volume_name(name)
    return f"{folder}/{name}" if folder else name


def parent_of(path: str) -> str:
    return volume_path(path).rpartition("/")[0]


def base_name(path: str) -> str:
    return volume_path(path).rpartition("/")[2]


def crumbs(path: str) -> list[tuple[str, str]]:
    """(name, path) from the volume root down to `path`, for the breadcrumb."""
    found, at = [], []
    for part in volume_path(path).split("/") if path else []:
        at.append(part)
        found.append((part, "/".join(at)))
    return found


# --------------------------------------------------------------------------- the listing


@dataclass(frozen=True)
class Entry:
    name: str
    path: str
    is_dir: bool
    is_link: bool
    size: int
    modified: datetime | None
    # The name passes the panel's (and FluxOS's) rules; other rows are shown without actions.
    usable: bool = True


@dataclass(frozen=True)
class Listing:
    entries: list
    total: int  # entries the node sent
    dropped: int = 0  # malformed entries left out

    @property
    def capped(self) -> bool:
        return self.total - self.dropped > len(self.entries)


def _when(value) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _entry(item, folder: str) -> Entry | None:
    if not isinstance(item, dict):
        return None
    name, size = item.get("name"), item.get("size")
    if not isinstance(name, str) or not name or "/" in name or "\x00" in name or name in (".", ".."):
        return None
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_SIZE:
        return None
    is_dir, is_link = item.get("isDirectory"), item.get("isSymbolicLink", False)
    if not isinstance(is_dir, bool) or not isinstance(is_link, bool):
        return None
    try:
        path = join(folder, name)
        usable = True
    except PathRefused:
        path, usable = "", False
    return Entry(name=name[:MAX_NAME], path=path, is_dir=is_dir and not is_link, is_link=is_link,
                 size=size, modified=_when(item.get("modifiedAt")), usable=usable and not is_link)


def parse_listing(data, folder: str) -> Listing:
    """The getfolderinfo answer, checked: folders first, then files, each by name; capped."""
    if not isinstance(data, list):
        raise VolumeError("The node's listing is not a list of entries.")
    entries = []
    dropped = 0
    for item in data[:MAX_ENTRIES * 5]:  # an absurd answer is not worth sorting
        entry = _entry(item, folder)
        if entry is None:
            dropped += 1
        else:
            entries.append(entry)
    entries.sort(key=lambda e: (not e.is_dir, e.name.lower(), e.name))
    return Listing(entries=entries[:MAX_ENTRIES], total=len(data), dropped=dropped)


# --------------------------------------------------------------------------- calls


def client(membership, app, instance):
    """The instance's node as the owner's app-owner authorisation, else the team's session on
    that node; VolumeError (pointing to the Wallet page) when neither is valid."""
    from apps.operations import operations as ops

    auth = ops.zelidauth_for_instance(membership, app, instance, ops.owner_auth(membership, app))
    if auth is None:
        raise VolumeError(f"No valid authorisation: the team holds no live app-owner authorisation by "
                          f"{app.owner or 'the app owner'} and no session on this node. Ask the key "
                          "holder to sign one on the Wallet page (app-owner authorisation).")
    return ops.client_for(instance, auth)


def _call(what: str, call):
    from fluxpanel.fluxos.client import FluxClientError

    try:
        return call()
    except FluxClientError as exc:
        from apps.operations.operations import failure_reason

        raise VolumeError(f"{what}: {failure_reason(exc)}") from exc


def _message(what: str, answer) -> str:
    if not isinstance(answer, str):
        raise VolumeError(f"{what}: the node's answer is not a message.")
    return answer[:300]


def list_folder(membership, app, instance, component: str, folder: str) -> Listing:
    folder = volume_path(folder)
    node = client(membership, app, instance)
    data = _call("Listing failed", lambda: node.folder_info(app.name, component, folder))
    return parse_listing(data, folder)


def create_folder(membership, app, instance, component: str, folder: str, name: str) -> str:
    path = join(folder, name)
    node = client(membership, app, instance)
    return _message("Creating the folder failed",
                    _call("Creating the folder failed", lambda: node.create_folder(app.name, component, path)))


def rename(membership, app, instance, component: str, path: str, new_name: str) -> str:
    path, new_name = volume_path(path), volume_name(new_name, what="The new name")
    if not path:
        raise PathRefused("The volume root cannot be renamed.")
    node = client(membership, app, instance)
    return _message("Renaming failed", _call(
        "Renaming failed", lambda: node.rename_object(app.name, component, path, new_name)))


def remove(membership, app, instance, component: str, path: str) -> str:
    path = volume_path(path)
    if not path:
        raise PathRefused("The volume root cannot be deleted.")
    node = client(membership, app, instance)
    return _message("Deleting failed", _call("Deleting failed", lambda: node.remove_object(app.name, component, path)))


def upload(membership, app, instance, component: str, folder: str, filename: str, fileobj) -> str:
    """Forward an uploaded file (streamed from its temporary file) and check the node's reply."""
    folder, filename = volume_path(folder), volume_name(filename, what="The file name")
    node = client(membership, app, instance)
    reply = _call("Upload failed", lambda: node.upload_file(app.name, component, folder, filename, fileobj))
    progress = [p for p in reply.get("progress", []) if isinstance(p, list) and len(p) == 2
                and all(isinstance(n, int) and not isinstance(n, bool) for n in p)]
    if reply.get("name") != filename:
        raise VolumeError("Upload failed: the node did not confirm the file "
                          f"(it answered {str(reply.get('name'))[:80]!r}).")
    received = progress[-1][0] if progress else None
    where = f"{folder}/" if folder else "the volume root"
    return f"Uploaded {filename} to {where}" + (f" ({received} bytes received by the node)." if received else ".")


def download(membership, app, instance, component: str, path: str, *, folder: bool):
    """The file (or the folder as a zip) in a temporary file, rewound; the caller streams it to
    the browser and closes it. A failure deletes it and raises VolumeError."""
    path = volume_path(path)
    if not path:
        raise PathRefused("Choose a file or folder to download (FluxOS does not zip the volume root).")
    node = client(membership, app, instance)
    node.stream_bounds = DOWNLOAD_BOUNDS  # this client only: larger than a log stream's bounds
    sink = tempfile.SpooledTemporaryFile(max_size=DOWNLOAD_SPOOL)
    call = node.download_folder if folder else node.download_file
    try:
        _call("Download failed", lambda: call(app.name, component, path, dest=sink))
    except BaseException:
        sink.close()
        raise
    sink.seek(0)
    return sink


def download_name(path: str, *, folder: bool) -> str:
    """The file name the panel gives a download (never the node's Content-Disposition)."""
    name = base_name(path) or "volume"
    return f"{name}.zip" if folder else name
