"""The data folder and what the panel writes in it are private to its user (issue 10 F10)."""
import os
import stat
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _first_run(data_dir: Path, *, migrate: bool = True) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "SECRET_KEY",
                                "FLUXPANEL_ENCRYPTION_KEY")}
    environment.update(FLUXPANEL_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="fluxpanel.settings")
    command = (["manage.py", "migrate", "--skip-checks", "--verbosity", "0"] if migrate
               else ["-c", "import fluxpanel.settings"])  # settings alone prepare the folder
    return subprocess.run(
        [sys.executable, *command], cwd=REPO,
        env=environment, capture_output=True, text=True, timeout=180,
        preexec_fn=lambda: os.umask(0o022),  # the usual umask: what a plain open() would give 0644
    )


def test_it_creates_the_data_folder_and_its_files_for_this_user_only(tmp_path):
    data_dir = tmp_path / "var"
    result = _first_run(data_dir)
    assert result.returncode == 0, result.stderr
    assert _mode(data_dir) == 0o700
    for name in ("db.sqlite3", "secret_key", "encryption_key"):
        assert _mode(data_dir / name) == 0o600, name
    for folder in ("broker", "broker-control"):
        assert _mode(data_dir / folder) == 0o700, folder
    assert (data_dir / "db.sqlite3").stat().st_size > 0  # the migrated database is that file


def test_it_tightens_a_data_folder_and_database_made_by_an_older_version(tmp_path):
    data_dir = tmp_path / "var"
    data_dir.mkdir(mode=0o755)
    os.chmod(data_dir, 0o755)
    (data_dir / "db.sqlite3").touch()
    os.chmod(data_dir / "db.sqlite3", 0o644)
    result = _first_run(data_dir, migrate=False)
    assert result.returncode == 0, result.stderr
    assert (_mode(data_dir), _mode(data_dir / "db.sqlite3")) == (0o700, 0o600)
