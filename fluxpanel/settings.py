"""fluxpanel settings, all read from the environment (see README, "Configuration").

Defaults run on one machine with nothing else installed: an SQLite file and a filesystem
Celery broker under ./var. DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis.
"""
from datetime import timedelta
from pathlib import Path

from csp import constants as csp

from fluxpanel import env

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env.get_str("FLUXPANEL_DATA_DIR", str(BASE_DIR / "var"))).resolve()
# The data folder holds the database, queued broker messages and generated keys: this user only.
env.private_dir(DATA_DIR)

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
    "axes",
    "csp",
    "apps.accounts",
    "apps.jobs",
    "apps.nodes",
    "apps.deployments",
    "apps.pricing",
    "apps.builder",
    "apps.operations",
    "apps.worldstate",
    "apps.wallets",
    "apps.network",
    "apps.earnings",
    "apps.backups",
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
    "csp.middleware.CSPMiddleware",
    "apps.wallets.middleware.SecretsGuardMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page (429).
    "axes.middleware.AxesMiddleware",
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
                "fluxpanel.htmx.poll_settings",
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
            # Created 0600 before SQLite opens it (its journal and WAL files copy this mode).
            "NAME": env.private_file(DATA_DIR / "db.sqlite3"),
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
# Password sign-in is throttled by django-axes: its backend comes first and refuses a locked-out
# account or client address before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failures are counted per account and, separately, per client address: either count reaching the
# limit within the cool-off window locks that account (from everywhere) or that address (for every
# account). A success does not reset the counts (resetting would let an attacker's own account
# wipe the address's count). See README, "Configuration".
AXES_FAILURE_LIMIT = env.get_int("FLUXPANEL_SIGNIN_FAILURE_LIMIT", 10, minimum=1, maximum=1000)
AXES_COOLOFF_TIME = timedelta(minutes=env.get_int("FLUXPANEL_SIGNIN_COOLOFF_MINUTES", 15, minimum=1,
                                                  maximum=7 * 24 * 60))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "apps.accounts.signin.lockout_response"  # a page, HTTP 429
# Behind N reverse proxies the client address is the N-th from the right in X-Forwarded-For.
TRUSTED_PROXY_COUNT = env.get_int("FLUXPANEL_TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=10)
AXES_CLIENT_IP_CALLABLE = "apps.accounts.signin.client_address"
AXES_VERBOSE = False
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
# Content-Security-Policy (django-csp): scripts only from the panel's own static files, so an
# injected <script> or on*= attribute never runs. Styles allow inline because templates set
# computed widths (progress bars) in style attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF, csp.UNSAFE_INLINE],
        "img-src": [csp.SELF, "data:"],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    },
}

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
        env.private_dir(_folder)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.get_bool("CELERY_TASK_ALWAYS_EAGER", False)
# How old a node's payment figures may grow before beat reads them again (apps/earnings/tasks.py).
EARNINGS_REFRESH_S = env.get_int("EARNINGS_REFRESH_S", 6 * 3600, minimum=300, maximum=7 * 86400)
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
    "filters": {"no_client_error_traceback": {"()": "fluxpanel.logfilters.ClientErrorsWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.get_str("LOG_LEVEL", "INFO")},
    # axes logs every failure at INFO; its WARNING lines (repeated failures, lockouts) are kept.
    "loggers": {"django.server": {"level": "WARNING"}, "axes": {"level": "WARNING"},
                "django.request": {"filters": ["no_client_error_traceback"]}},
}

# System schedules; teams' own schedules are edited in the panel (django-celery-beat's tables).
CELERY_BEAT_SCHEDULE = {
    "reap-stale-jobs": {"task": "jobs.reap_stale", "schedule": 30.0},
    # The alert outbox: sends what a sweep recorded but no sender finished (a worker died).
    "nodes-send-alerts": {"task": "nodes.send_alerts", "schedule": 30.0},
    "wallets-housekeeping": {"task": "wallets.housekeeping", "schedule": 300.0},
    "wallets-warn-expiring": {"task": "wallets.warn_expiring", "schedule": 3600.0},
    # App sync: enqueues a sync for every team whose apps are due (AppSyncSettings.interval_seconds).
    "deployments-sync-due": {"task": "deployments.sync_due", "schedule": 60.0},
    # Network figures from the stats API when older than NETWORK_STATS_TTL_S; each team's FleetDay.
    "network-refresh": {"task": "network.refresh", "schedule": 300.0},
    "earnings-refresh-due": {"task": "earnings.refresh_due", "schedule": 900.0},
    # Backups left "in progress" by a job that died: failed, partial archive removed.
    "backups-reap-orphans": {"task": "backups.reap_orphans", "schedule": 60.0},
}

# Fleet sweeps: parallel probes per sweep, per-node timeout, and when a silent sweep counts as dead.
SWEEP_CONCURRENCY = env.get_int("SWEEP_CONCURRENCY", 100, minimum=1, maximum=1000)
SWEEP_TIMEOUT_SECONDS = env.get_int("SWEEP_TIMEOUT_SECONDS", 5, minimum=1, maximum=120)
SWEEP_STALE_SECONDS = env.get_int("SWEEP_STALE_SECONDS", 60, minimum=5)
# A team's sweep is split across the live workers, never into shards smaller than this (a small
# fleet stays one shard: one process sweeps it as fast as several). A shard whose worker died is
# taken again by another process after SWEEP_STALE_SECONDS, at most SWEEP_SHARD_ATTEMPTS times.
SWEEP_NODES_PER_SHARD = env.get_int("SWEEP_NODES_PER_SHARD", 500, minimum=1)
SWEEP_SHARD_ATTEMPTS = env.get_int("SWEEP_SHARD_ATTEMPTS", 3, minimum=1, maximum=20)
# Development and tests only: accept any http(s) URL as a node address (the simulated fleet serves
# many nodes under one port with a path prefix). Real nodes are checked against FluxOS's ports.
ALLOW_ANY_NODE_URL = env.get_bool("FLUXPANEL_ALLOW_ANY_NODE_URL", False)
# App sync: instance checks in parallel (like the sweep), and when a silent sync counts as dead.
APP_SYNC_CONCURRENCY = env.get_int("APP_SYNC_CONCURRENCY", 100, minimum=1, maximum=1000)
APP_SYNC_TIMEOUT_SECONDS = env.get_int("APP_SYNC_TIMEOUT_SECONDS", 5, minimum=1, maximum=120)
# A sync's source (node or gateway) answers with the network's specs and locations: a few MB.
APP_SYNC_SOURCE_TIMEOUT_SECONDS = env.get_int("APP_SYNC_SOURCE_TIMEOUT_SECONDS", 20, minimum=1, maximum=300)
# Builder: the whole register/update call to a node (FluxOS answers in 5–15 s, after broadcasting),
# how often the payment watcher asks the network, and its per-node read timeout.
BUILDER_SUBMIT_DEADLINE_S = env.get_int("BUILDER_SUBMIT_DEADLINE_S", 75, minimum=10, maximum=600)
BUILDER_PAYMENT_POLL_SECONDS = env.get_int("BUILDER_PAYMENT_POLL_SECONDS", 20, minimum=1, maximum=600)
BUILDER_PAYMENT_NODE_TIMEOUT_S = env.get_int("BUILDER_PAYMENT_NODE_TIMEOUT_S", 8, minimum=1, maximum=120)
# How long "Check on a node" waits for the node's verify answer before saying so.
BUILDER_NODE_CHECK_SECONDS = env.get_int("BUILDER_NODE_CHECK_SECONDS", 10, minimum=1, maximum=120)
# Operating apps: one lifecycle call's read timeout; how long a rolling step waits for its instance
# to run again (and how often it looks); how long it waits out a node's maintenance window or claim
# (and how often it looks); how long one merged-logs poll waits for its nodes.
OPERATIONS_READ_TIMEOUT_S = env.get_int("OPERATIONS_READ_TIMEOUT_S", 30, minimum=1, maximum=600)
OPERATIONS_RUN_TIMEOUT_S = env.get_int("OPERATIONS_RUN_TIMEOUT_S", 300, minimum=5, maximum=3600)
OPERATIONS_RUN_POLL_S = env.get_int("OPERATIONS_RUN_POLL_S", 1, minimum=1, maximum=60)
OPERATIONS_BLOCKED_WAIT_S = env.get_int("OPERATIONS_BLOCKED_WAIT_S", 600, minimum=5, maximum=86400)
OPERATIONS_BLOCKED_POLL_S = env.get_int("OPERATIONS_BLOCKED_POLL_S", 5, minimum=1, maximum=600)
OPERATIONS_LOG_POLL_BUDGET_S = env.get_int("OPERATIONS_LOG_POLL_BUDGET_S", 4, minimum=1, maximum=60)
# Exec: how long a command may run in all, and how long it may stay silent, before its job fails.
OPERATIONS_EXEC_TIMEOUT_S = env.get_int("OPERATIONS_EXEC_TIMEOUT_S", 120, minimum=1, maximum=3600)
# Stats samples taken while the Stats page is watched; kept this long (the chart shows the last hour).
OPERATIONS_STATS_KEEP_S = env.get_int("OPERATIONS_STATS_KEEP_S", 3600, minimum=60, maximum=86400)
# How long one stats sample of all containers (or one inspect/top/changes) waits for the nodes.
OPERATIONS_STATS_BUDGET_S = env.get_int("OPERATIONS_STATS_BUDGET_S", 5, minimum=1, maximum=60)
# Node admin operations (apps/nodes/admin_jobs.py): one admin call's read timeout (the restart
# scripts run before FluxOS answers); how long a restarted node may take to answer again, and how
# often it is asked. Maintenance windows and claims are waited out with OPERATIONS_BLOCKED_*.
NODE_ADMIN_CALL_TIMEOUT_S = env.get_int("NODE_ADMIN_CALL_TIMEOUT_S", 120, minimum=1, maximum=600)
NODE_ADMIN_BACK_TIMEOUT_S = env.get_int("NODE_ADMIN_BACK_TIMEOUT_S", 600, minimum=5, maximum=3600)
NODE_ADMIN_POLL_S = env.get_int("NODE_ADMIN_POLL_S", 3, minimum=1, maximum=60)
# The volume browser: the largest file uploaded through the panel (FluxOS itself takes up to 10 GB).
OPERATIONS_UPLOAD_MAX_MB = env.get_int("OPERATIONS_UPLOAD_MAX_MB", 1024, minimum=1, maximum=10240)
# Backups (apps/backups): the storage they are kept in (a folder under the data folder, or an
# S3-compatible bucket when FLUXPANEL_BACKUP_S3_BUCKET is set), the largest archive taken from a
# node, how long one transfer may run, and how long a node may stay silent in the middle of one.
BACKUP_DIR = DATA_DIR / "backups"
BACKUP_S3_BUCKET = env.get_str("FLUXPANEL_BACKUP_S3_BUCKET", "")
BACKUP_MAX_GB = env.get_int("BACKUP_MAX_GB", 50, minimum=1, maximum=10240)
BACKUP_TRANSFER_MAX_S = env.get_int("BACKUP_TRANSFER_MAX_S", 6 * 3600, minimum=10, maximum=7 * 86400)
BACKUP_STALL_S = env.get_int("BACKUP_STALL_S", 60, minimum=1, maximum=3600)
# How long FluxOS's backup or restore task may run (it stops the app, tars or untars the volume).
BACKUP_TASK_TIMEOUT_S = env.get_int("BACKUP_TASK_TIMEOUT_S", 3600, minimum=10, maximum=86400)
# The largest archive uploaded through the panel to restore from (FluxOS itself takes up to 10 GB).
BACKUP_UPLOAD_MAX_MB = env.get_int("BACKUP_UPLOAD_MAX_MB", 10240, minimum=1, maximum=10240)
# The S3-compatible bucket (apps/backups/s3.py): endpoint (empty: AWS itself), region, credentials
# (empty: boto3's own lookup, e.g. an instance role), a key prefix, and the addressing style (path
# by default for a custom endpoint: MinIO and most self-hosted servers have no per-bucket names).
# A loopback/private/link-local endpoint is refused unless allowed (development: the test server;
# or a MinIO on the operator's own network).
BACKUP_S3_ENDPOINT_URL = env.get_str("FLUXPANEL_BACKUP_S3_ENDPOINT_URL", "")
BACKUP_S3_REGION = env.get_str("FLUXPANEL_BACKUP_S3_REGION", "")
BACKUP_S3_ACCESS_KEY_ID = env.get_str("FLUXPANEL_BACKUP_S3_ACCESS_KEY_ID", "")
BACKUP_S3_SECRET_ACCESS_KEY = env.get_str("FLUXPANEL_BACKUP_S3_SECRET_ACCESS_KEY", "")
BACKUP_S3_PREFIX = env.get_str("FLUXPANEL_BACKUP_S3_PREFIX", "").strip("/")
BACKUP_S3_ADDRESSING_STYLE = env.get_str("FLUXPANEL_BACKUP_S3_ADDRESSING_STYLE",
                                         "path" if BACKUP_S3_ENDPOINT_URL else "auto")
if BACKUP_S3_ADDRESSING_STYLE not in ("auto", "path", "virtual"):
    raise env.SettingError("FLUXPANEL_BACKUP_S3_ADDRESSING_STYLE", BACKUP_S3_ADDRESSING_STYLE,
                           "expected auto, path or virtual")
BACKUP_S3_ALLOW_PRIVATE = env.get_bool("FLUXPANEL_BACKUP_S3_ALLOW_PRIVATE", False)
if BACKUP_S3_BUCKET:
    STORAGES["backups"] = {
        "BACKEND": "apps.backups.s3.BackupS3Storage",
        "OPTIONS": {
            "bucket_name": BACKUP_S3_BUCKET,
            "endpoint_url": BACKUP_S3_ENDPOINT_URL or None,
            "region_name": BACKUP_S3_REGION or None,
            "access_key": BACKUP_S3_ACCESS_KEY_ID or None,
            "secret_key": BACKUP_S3_SECRET_ACCESS_KEY or None,
            "location": BACKUP_S3_PREFIX,
            "addressing_style": BACKUP_S3_ADDRESSING_STYLE,
            "allow_private": BACKUP_S3_ALLOW_PRIVATE,
            "default_acl": None,
            "querystring_auth": False,
        },
    }
else:
    STORAGES["backups"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(BACKUP_DIR), "file_permissions_mode": 0o600,
                    "directory_permissions_mode": 0o700},
    }
# Past that limit a file stops being spooled to disk while the body is parsed (fluxpanel/uploads.py).
FILE_UPLOAD_HANDLERS = [
    "fluxpanel.uploads.UploadSizeLimit",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
APP_SYNC_STALE_SECONDS = env.get_int("APP_SYNC_STALE_SECONDS", 120, minimum=5)
# Development and tests only (needs FLUXPANEL_ALLOW_ANY_NODE_URL): how to reach an instance's node
# from its location record, e.g. "http://127.0.0.1:9000/loc/{location}" for the simulator, whose
# nodes have private addresses. Empty: http://<ip>:<port> as FluxOS itself calls it.
DEV_LOCATION_URL = env.get_str("FLUXPANEL_DEV_LOCATION_URL", "")
# The Flux stats API (RunOnFlux/fluxstats) the Network page asks for projections, how long its
# figures are kept before they are asked again, and (development: the stats double on loopback)
# whether a private or loopback stats URL may be called.
FLUX_STATS_API_URL = env.get_str("FLUX_STATS_API_URL", "https://stats.runonflux.io")
NETWORK_STATS_TTL_S = env.get_int("NETWORK_STATS_TTL_S", 900, minimum=10, maximum=86400)
NETWORK_STATS_DEADLINE_S = env.get_int("NETWORK_STATS_DEADLINE_S", 30, minimum=1, maximum=300)
ALLOW_PRIVATE_STATS_API = env.get_bool("FLUXPANEL_ALLOW_PRIVATE_STATS_API", False)
# Alert webhooks to private/loopback addresses are refused unless allowed here.
ALLOW_PRIVATE_WEBHOOKS = env.get_bool("FLUXPANEL_ALLOW_PRIVATE_WEBHOOKS", False)
# World-state engines on loopback/private/link-local addresses are refused (SSRF) unless allowed
# here: development and tests only (the engine double listens on loopback).
ALLOW_PRIVATE_ENGINES = env.get_bool("FLUXPANEL_ALLOW_PRIVATE_ENGINES", False)
# World state live (`manage.py worldstate_subscribe`, apps/worldstate/subscriber.py): a holder
# silent for the lease time loses its engines to the next subscriber; an engine silent for the
# silence time (it sends metrics every 2 s) is reconnected; retries back off up to the maximum;
# each engine keeps this many recent updates.
WORLDSTATE_LEASE_SECONDS = env.get_int("WORLDSTATE_LEASE_SECONDS", 15, minimum=1, maximum=600)
WORLDSTATE_SILENCE_SECONDS = env.get_int("WORLDSTATE_SILENCE_SECONDS", 10, minimum=1, maximum=600)
WORLDSTATE_BACKOFF_MAX_SECONDS = env.get_int("WORLDSTATE_BACKOFF_MAX_SECONDS", 60, minimum=1, maximum=3600)
WORLDSTATE_LIVE_LOG_ROWS = env.get_int("WORLDSTATE_LIVE_LOG_ROWS", 1000, minimum=10, maximum=100000)

# Wallet messages (sign-in and link challenges) one client may ask for per window, and how many
# unexpired ones may exist in all (apps.wallets.throttle): anonymous requests write rows.
WALLET_CHALLENGES_PER_CLIENT = env.get_int("FLUXPANEL_WALLET_CHALLENGES_PER_CLIENT", 20, minimum=1)
WALLET_CHALLENGE_WINDOW_SECONDS = env.get_int("FLUXPANEL_WALLET_CHALLENGE_WINDOW_SECONDS", 600,
                                              minimum=10)
WALLET_CHALLENGES_LIVE_MAX = env.get_int("FLUXPANEL_WALLET_CHALLENGES_LIVE_MAX", 5000, minimum=10)
