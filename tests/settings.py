"""Settings for the test run: the project's settings with a throw-away data folder.

The test database is an SQLite *file* so that a real Celery worker process started by a test
sees the same rows as the test itself.
"""
import os
import tempfile

os.environ.setdefault("FLUXPANEL_DATA_DIR", tempfile.mkdtemp(prefix="fluxpanel-test-"))

from fluxpanel.settings import *  # noqa: E402,F403
from fluxpanel.settings import DATA_DIR, DATABASES  # noqa: E402

DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

from fluxpanel.settings import STATIC_ROOT  # noqa: E402

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
