"""fluxpanel settings, all read from the environment (see README, "Configuration").

Defaults run on one machine with nothing else installed: an SQLite file and a filesystem
Celery broker under ./var. DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis.
"""
from pathlib import Path

from fluxpanel import env

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env.get_str("FLUXPANEL_DATA_DIR", str(BASE_DIR / "var"))).resolve()

SECRET_KEY = env.persistent_secret("SECRET_KEY", DATA_DIR / "secret_key")
# Key for encrypting node sessions and engine tokens at rest (Fernet, derived from this value).
ENCRYPTION_KEY = env.persistent_secret("FLUXPANEL_ENCRYPTION_KEY", DATA_DIR / "encryption_key")
DEBUG = env.get_bool("DEBUG", False)
ALLOWED_HOSTS = env.get_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.get_list("CSRF_TRUSTED_ORIGINS", [])
PORT = env.get_int("PORT", 8000, minimum=1, maximum=65535)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_celery_beat",
    "apps.accounts",
    "apps.jobs",
    "apps.nodes",
    "apps.deployments",
    "apps.pricing",
    "apps.worldstate",
    "apps.wallets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "apps.wallets.middleware.SecretsGuardMiddleware",
]

ROOT_URLCONF = "fluxpanel.urls"
WSGI_APPLICATION = "fluxpanel.wsgi.application"
ASGI_APPLICATION = "fluxpanel.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.accounts.context_processors.team_context",
            ],
        },
    },
]

_database_url = env.get_str("DATABASE_URL", "")
if _database_url:
    DATABASES = {"default": env.database_from_url(_database_url)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            # Web, worker and beat share the file: wait for locks instead of failing at once.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Security: secure cookies and HSTS when served over HTTPS (production); off for local http.
SECURE_HTTPS = env.get_bool("SECURE_HTTPS", False)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_SSL_REDIRECT = SECURE_HTTPS
SECURE_HSTS_SECONDS = 31536000 if SECURE_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = SECURE_HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_HTTPS else None
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Celery: Redis when REDIS_URL is set; otherwise a filesystem broker that needs no server and keeps
# queued messages across a restart (they are files under var/broker until a worker acks them).
REDIS_URL = env.get_str("REDIS_URL", "")
if REDIS_URL:
    env.check_redis_url(REDIS_URL)
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    BROKER_DIR = DATA_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "control_folder": str(DATA_DIR / "broker-control"),
    }
    # kombu expects the folders to exist; creating them here serves web, worker and beat alike.
    for _folder in (BROKER_DIR, DATA_DIR / "broker-control"):
        _folder.mkdir(parents=True, exist_ok=True)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.get_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# A job's worker is considered gone when its heartbeat is older than this.
WORKER_HEARTBEAT_SECONDS = env.get_int("WORKER_HEARTBEAT_SECONDS", 10, minimum=1)
WORKER_STALE_SECONDS = env.get_int("WORKER_STALE_SECONDS", 60, minimum=5)

EMAIL_BACKEND = env.get_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.get_str("DEFAULT_FROM_EMAIL", "fluxpanel@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.get_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.server": {"level": "WARNING"}},
}

# System schedules; teams' own schedules are edited in the panel (django-celery-beat's tables).
CELERY_BEAT_SCHEDULE = {
    "reap-stale-jobs": {"task": "jobs.reap_stale", "schedule": 30.0},
    "wallets-housekeeping": {"task": "wallets.housekeeping", "schedule": 300.0},
    "wallets-warn-expiring": {"task": "wallets.warn_expiring", "schedule": 3600.0},
}

# Fleet sweeps: parallel probes per sweep, per-node timeout, and when a silent sweep counts as dead.
SWEEP_CONCURRENCY = env.get_int("SWEEP_CONCURRENCY", 100, minimum=1, maximum=1000)
SWEEP_TIMEOUT_SECONDS = env.get_int("SWEEP_TIMEOUT_SECONDS", 5, minimum=1, maximum=120)
SWEEP_STALE_SECONDS = env.get_int("SWEEP_STALE_SECONDS", 60, minimum=5)
# Development and tests only: accept any http(s) URL as a node address (the simulated fleet serves
# many nodes under one port with a path prefix). Real nodes are checked against FluxOS's ports.
ALLOW_ANY_NODE_URL = env.get_bool("FLUXPANEL_ALLOW_ANY_NODE_URL", False)
# Alert webhooks to private/loopback addresses are refused unless allowed here.
ALLOW_PRIVATE_WEBHOOKS = env.get_bool("FLUXPANEL_ALLOW_PRIVATE_WEBHOOKS", False)
