"""The volume browser's path rules (apps.operations.volumes): pure functions, no database. A
path that could leave the component's volume is refused here, before any node is asked."""
import pytest

from apps.operations.volumes import (
    MAX_DEPTH,
    MAX_ENTRIES,
    PathRefused,
    VolumeError,
    crumbs,
    download_name,
    join,
    parent_of,
    parse_listing,
    volume_name,
    volume_path,
)


@pytest.mark.parametrize(("given", "expected"), [
    (None, ""), ("", ""), ("appdata", "appdata"), ("appdata/", "appdata"), ("./appdata", "appdata"),
    ("appdata/./sub", "appdata/sub"), ("appdata/new dir", "appdata/new dir"),
    ("appdata/file..backup.txt", "appdata/file..backup.txt"), ("appdata/.env", "appdata/.env"),
    ("backup/upload/backup_web.tar.gz", "backup/upload/backup_web.tar.gz"),
    ("a/(b)/[c]/{d}/e@f#g+h=i", "a/(b)/[c]/{d}/e@f#g+h=i"),
])
def test_it_normalises_paths_inside_the_volume(given, expected):
    assert volume_path(given) == expected


@pytest.mark.parametrize(("given", "says"), [
    ("..", "leaves the volume"), ("../etc", "leaves the volume"), ("appdata/../../etc", "leaves the volume"),
    ("appdata/..", "leaves the volume"), ("appdata/sub/../..", "leaves the volume"),
    ("%2e%2e/etc", "leaves the volume"), ("%2E%2E%2Fetc", "leaves the volume"),
    ("appdata/%252e%252e/x", "leaves the volume"), ("..%2f..%2fetc", "leaves the volume"),
    ("/etc/passwd", "absolute"), ("/", "absolute"), ("//etc", "absolute"),
    ("appdata\\..\\etc", "backslash"), ("appdata%5c..", "backslash"),
    ("appdata/\x00x", "NUL"), ("appdata%00", "NUL"),
    ("appdata//x", "empty folder name"), ("~/x", "~"), ("~root", "~"),
    ("appdata/%41", "percent-encoded"),
    ("appdata/a:b", "FluxOS only accepts"), ("appdata/link -> /etc", "FluxOS only accepts"),
    ("appdata/naïve", "FluxOS only accepts"), ("appdata/line\nbreak", "FluxOS only accepts"),
    ("appdata/$(rm)", "FluxOS only accepts"), ("appdata/\"q\"", "FluxOS only accepts"),
    ("a" * 1025, "longer than"), ("/".join(["a"] * (MAX_DEPTH + 1)), "deeper than"),
])
def test_it_refuses_paths_that_could_leave_the_volume(given, says):
    with pytest.raises(PathRefused, match=says):
        volume_path(given)


def test_it_refuses_a_path_that_is_not_text():
    with pytest.raises(PathRefused):
        volume_path(["appdata"])


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\\b", "x\x00", "%2e%2e", "a" * 256, "é", "a|b"])
def test_it_refuses_names_that_are_not_one_plain_name(name):
    with pytest.raises(PathRefused):
        volume_name(name)


def test_it_joins_splits_and_names():
    assert join("", "appdata") == "appdata"
    assert join("appdata/", "x y.txt") == "appdata/x y.txt"
    with pytest.raises(PathRefused):
        join("appdata", "../x")
    with pytest.raises(PathRefused):
        join("../x", "y")
    assert parent_of("appdata/sub/f") == "appdata/sub" and parent_of("appdata") == ""
    assert crumbs("appdata/sub") == [("appdata", "appdata"), ("sub", "appdata/sub")]
    assert crumbs("") == []
    assert download_name("appdata/data", folder=True) == "data.zip"
    assert download_name("appdata/config.yml", folder=False) == "config.yml"


def entry(name, size=1, is_dir=False, **extra):
    return {"name": name, "size": size, "isDirectory": is_dir, "isFile": not is_dir,
            "isSymbolicLink": False, "createdAt": "2026-01-02T03:04:05.000Z",
            "modifiedAt": "2026-01-02T03:04:05.000Z", **extra}


def test_it_sorts_folders_first_and_keeps_only_well_formed_entries():
    listing = parse_listing([
        entry("b.txt"), entry("zdir", 10, True), entry("A.txt"), entry("adir", 5, True),
        entry("../up"), entry("a/b"), entry("neg", -1), entry("huge", 2 ** 60), entry("bool", True),
        {"name": "nokind", "size": 1}, "garbage", None, entry("link", isSymbolicLink=True),
        entry("odd:name"),
    ], "appdata")
    assert [e.name for e in listing.entries] == ["adir", "zdir", "A.txt", "b.txt", "link", "odd:name"]
    assert listing.dropped == 8 and listing.total == 14 and not listing.capped
    by_name = {e.name: e for e in listing.entries}
    assert by_name["adir"].path == "appdata/adir" and by_name["adir"].size == 5
    assert by_name["adir"].modified.year == 2026
    assert not by_name["link"].usable and by_name["link"].is_link and not by_name["link"].is_dir
    assert not by_name["odd:name"].usable and by_name["odd:name"].path == ""


def test_it_caps_a_huge_listing_and_refuses_a_non_list():
    listing = parse_listing([entry(f"f{n:05}") for n in range(MAX_ENTRIES + 50)], "")
    assert len(listing.entries) == MAX_ENTRIES and listing.capped and listing.total == MAX_ENTRIES + 50
    for garbage in ({"name": "x"}, "text", None, 3):
        with pytest.raises(VolumeError, match="not a list"):
            parse_listing(garbage, "")
