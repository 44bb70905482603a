"""NeuroScan settings: one module, driven by environment variables.

Embedded defaults (SQLite, kombu's filesystem broker, local media folder) need
no server. The real stack is selected with DATABASE_URL and CELERY_BROKER_URL.
NEUROSCAN_ENV=production switches on the hardened profile.
"""

import zoneinfo
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from neuroscan.headers import static_file_headers
from neuroscan.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
    local_secret_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent
# Runtime state of the embedded mode (SQLite file, broker queue, local key): git-ignored.
VAR_DIR = Path(env_str("NEUROSCAN_VAR_DIR", str(BASE_DIR / "var")))

NEUROSCAN_ENV = env_choice("NEUROSCAN_ENV", "development", ("development", "production"))
PRODUCTION = NEUROSCAN_ENV == "production"

# --- Core -----------------------------------------------------------------
if PRODUCTION:
    SECRET_KEY = env_str("SECRET_KEY", required=True)
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 random characters in production.")
else:
    SECRET_KEY = env_str("SECRET_KEY") or local_secret_key(VAR_DIR / "secret_key")

DEBUG = False if PRODUCTION else env_bool("DEBUG", False)
if PRODUCTION:
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("Set ALLOWED_HOSTS (comma-separated host names) in production.")
else:
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# A site-styled page; a stale review form comes back to its scan with the note kept.
CSRF_FAILURE_VIEW = "neuroscan.errors.csrf_failure"

# Where `scripts/run` (gunicorn in the Procfile) listens; `manage.py bind_address` prints it.
# 0.0.0.0 serves every network interface: add the name clients use to ALLOWED_HOSTS.
NEUROSCAN_HOST = env_str("NEUROSCAN_HOST", "127.0.0.1")
NEUROSCAN_PORT = env_int("NEUROSCAN_PORT", 8000, minimum=1, maximum=65535)

# Self-registration: "open" (anyone may create a clinician account), "approval" (an account
# waits, inactive, until an administrator activates it in the admin), "closed" (administrators
# create accounts: `manage.py createsuperuser`, or Users in the admin).
NEUROSCAN_REGISTRATION = env_choice("NEUROSCAN_REGISTRATION", "open", ("open", "approval", "closed"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "accounts",
    "scans",
    "studies",
    "reviews",
    "reports",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise: static files keep their own headers; every page gets these.
    "csp.middleware.CSPMiddleware",
    "neuroscan.headers.NoStoreMiddleware",
    "neuroscan.failures.LengthRequiredMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "neuroscan.urls"
WSGI_APPLICATION = "neuroscan.wsgi.application"

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
                "accounts.context_processors.roles",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
_default_database_url = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
try:
    _database = dj_database_url.parse(
        env_str("DATABASE_URL", _default_database_url),
        conn_max_age=60,
        conn_health_checks=True,
    )
except ValueError as error:
    raise ImproperlyConfigured(f"DATABASE_URL is not a usable database URL: {error}") from None
if _database["ENGINE"] not in ("django.db.backends.sqlite3", "django.db.backends.postgresql"):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://) or SQLite (sqlite://).")
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # Connections are kept as for PostgreSQL (conn_max_age above): opening one for each task and
    # closing it after cost a slice ~2 ms of its ~50 (`python -m studies.bench`).
    # Web server and worker are separate processes writing one file: wait for the lock instead of
    # failing at once. Write-ahead logging: readers (the pages) no longer block the workers' writes, and a commit
    # syncs the log only at checkpoints (NORMAL is still safe against corruption; the last commits
    # before a power cut may be lost, never half-written). A study's commits per slice then cost
    # tens of microseconds instead of an fsync each (`python -m studies.bench`).
    _database["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests that start a real worker process need a test database on disk,
    # which that process can open too (the default is in memory).
    _database["TEST"] = {"NAME": str(VAR_DIR / "test_db.sqlite3")}
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -----------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # django-axes first, so that a locked-out user is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Then the account-wide ceiling across addresses (accounts.backends).
    "accounts.backends.AccountCeilingBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Brute-force protection (django-axes): lock a username+IP pair after a few failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Failures of one account from all addresses together, within the cool-off, that lock it too.
AXES_ACCOUNT_FAILURE_LIMIT = env_int("AXES_ACCOUNT_FAILURE_LIMIT", 20, minimum=1)
# The client's address behind a reverse proxy (accounts.client_ip): the header the proxy sets and
# how many proxies of yours append to it. Empty: REMOTE_ADDR, for a portal reached directly.
TRUSTED_PROXY_HEADER = env_str("TRUSTED_PROXY_HEADER", "") or ""
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1, minimum=1)
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLE_ADMIN = True
# Not the "AXES: BEGIN ..." banner in every process's start-up log (web workers, the worker, manage.py).
AXES_VERBOSE = False

# Audit events are kept at least this long (six years, as many health-record rules ask).
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 6 * 365, minimum=1)

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "NeuroScan <no-reply@localhost>")
# For django.core.mail.backends.smtp.EmailBackend.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

# --- Internationalisation -------------------------------------------------
LANGUAGE_CODE = "en-gb"
# Pages, PDF, admin and the security page all show times in this zone, with its name,
# in the one format of neuroscan/formats/en/formats.py (e.g. "2026-03-01 14:05 CET").
TIME_ZONE = env_str("TIME_ZONE", "UTC")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE must be an IANA zone name such as Europe/Paris, not {TIME_ZONE!r}.") from None
FORMAT_MODULE_PATH = ["neuroscan.formats"]
USE_I18N = True
USE_TZ = True

# --- Static and media ---------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    # Private: uploaded scans and heatmaps are never served from a URL of their
    # own, only streamed by views that check who is asking (no MEDIA_URL route).
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))

# --- Celery -------------------------------------------------------------------
# Embedded default: kombu's filesystem transport, a queue in a folder, so that the
# web server and the worker are still separate processes with no server to run.
# "localhost" names no server: the filesystem transport ignores it, but kombu warns when it is missing.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://localhost/")
if not CELERY_BROKER_URL.startswith(("filesystem://", "redis://", "rediss://")):
    raise ImproperlyConfigured("CELERY_BROKER_URL must be a redis:// URL or filesystem:// (embedded).")
CELERY_BROKER_FOLDER = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER / "queue"),
        "data_folder_out": str(CELERY_BROKER_FOLDER / "queue"),
        "processed_folder": str(CELERY_BROKER_FOLDER / "processed"),
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
        "store_processed": False,
        # How often an idle worker looks into the queue folder. kombu's default (1 s) made a batch
        # of 10 slices take ~11 s: the worker takes one message at a time (prefetch 1, acks late)
        # and then slept a whole second before looking for the next. Listing a small folder
        # 20 times a second costs next to nothing. `python -m scans.bench_batch` measures it.
        "polling_interval": env_int("CELERY_FILESYSTEM_POLLING_MS", 50, minimum=1) / 1000,
    }
    _default_result_backend = f"file://{VAR_DIR / 'celery-results'}"
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
    _default_result_backend = CELERY_BROKER_URL
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", _default_result_backend)
CELERY_RESULT_EXPIRES = timedelta(hours=1)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Each pool process holds the next message while it runs one (acknowledged late, so a worker that
# dies takes nothing down: Redis hands unacknowledged messages out again, the sweep re-sends what the
# embedded broker lost). With 1 it fetched the next only after finishing, and on the embedded broker
# waited up to a poll interval for it, between every two slices of a study: `python -m studies.bench`
# went from efficiency 0.74 to 0.81 with 2 (150 slices, 2 workers, load 5-6). The analysis tasks
# are short and alike, so holding one more costs no fairness.
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("CELERY_WORKER_PREFETCH_MULTIPLIER", 2, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 120, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 180, minimum=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Each pool process loads and warms the model before its first task (scans.analyser), which
# takes several seconds; Celery's default 4 s would kill the process as hung.
SCANS_LOAD_MODEL_AT_START = env_bool("SCANS_LOAD_MODEL_AT_START", True)
CELERY_WORKER_PROC_ALIVE_TIMEOUT = 120 if SCANS_LOAD_MODEL_AT_START else 4
CELERY_TIMEZONE = TIME_ZONE
# Celery's Django fix-up closes every database connection around every task unless this is set
# (then it closes them every 500 tasks); neuroscan.celery closes what Django would instead.
CELERY_DB_REUSE_MAX = 1000

# --- Logging: no pixel data or personal data is ever logged -------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- Security -----------------------------------------------------------------
# Content-Security-Policy (django-csp): scripts and styles from this site only, no inline script
# anywhere (templates load static/*.js; Swagger UI is served in its split, script-file form).
# Inline style *attributes* (progress-bar widths) are allowed; <style> elements are not.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],  # Bootstrap's and Swagger UI's icons are data: SVGs
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
WHITENOISE_ADD_HEADERS_FUNCTION = static_file_headers  # X-Frame-Options on static files too
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        # Only behind a proxy that sets X-Forwarded-Proto itself.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Scans (scans/ app: upload limits, quota, the sweep) ----------------------------------------
# Largest accepted upload, per file.
SCANS_MAX_UPLOAD_BYTES = env_int("SCANS_MAX_UPLOAD_BYTES", 20 * 1024 * 1024, minimum=1)
# The portal's own decompression-bomb cap (Pillow's larger MAX_IMAGE_PIXELS stays on as well).
SCANS_MAX_PIXELS = env_int("SCANS_MAX_PIXELS", 25_000_000, minimum=1)
SCANS_UPLOADS_PER_HOUR = env_int("SCANS_UPLOADS_PER_HOUR", 100, minimum=1)
# Each file is decoded in a child process with this much address space on top of the web
# process's own, and this many seconds (scans.sandbox): no upload can take the web tier down.
SCANS_DECODE_MEMORY_MB = env_int("SCANS_DECODE_MEMORY_MB", 1024, minimum=64)
SCANS_DECODE_SECONDS = env_int("SCANS_DECODE_SECONDS", 10, minimum=1)
# Decoding one request may do (scans.services.UploadBudget); files past it are refused as
# "deferred", nothing stored, to be sent again. Seconds + one file's SCANS_DECODE_SECONDS must
# stay under the web server's timeout (gunicorn --timeout).
SCANS_REQUEST_DECODE_SECONDS = env_int("SCANS_REQUEST_DECODE_SECONDS", 15, minimum=1)
SCANS_REQUEST_MAX_PIXELS = env_int("SCANS_REQUEST_MAX_PIXELS", 200_000_000, minimum=1)
# The same bytes from the same owner within this window are answered with the scan already made.
SCANS_DUPLICATE_WINDOW_SECONDS = env_int("SCANS_DUPLICATE_WINDOW_SECONDS", 600, minimum=0)
# A scan queued (message sent) or processing for longer than this is sent again by the sweep.
SCANS_STUCK_AFTER_SECONDS = env_int("SCANS_STUCK_AFTER_SECONDS", 300, minimum=1)
SCANS_SWEEP_INTERVAL_SECONDS = env_int("SCANS_SWEEP_INTERVAL_SECONDS", 60, minimum=1)
SCANS_SWEEP_BATCH = env_int("SCANS_SWEEP_BATCH", 500, minimum=1)
# A scan whose worker died this many times mid-run is failed rather than sent again.
SCANS_MAX_ATTEMPTS = env_int("SCANS_MAX_ATTEMPTS", 3, minimum=1)
SCANS_TASK_MAX_RETRIES = env_int("SCANS_TASK_MAX_RETRIES", 5, minimum=0)
SCANS_TASK_RETRY_BACKOFF_SECONDS = env_int("SCANS_TASK_RETRY_BACKOFF_SECONDS", 5, minimum=1)
if SCANS_STUCK_AFTER_SECONDS <= CELERY_TASK_TIME_LIMIT:
    # A run still within its time limit is alive: sending it again would only duplicate work.
    raise ImproperlyConfigured("SCANS_STUCK_AFTER_SECONDS must be longer than CELERY_TASK_TIME_LIMIT.")

# --- Studies (studies/ app: whole series and volumes) -------------------------------------------
# Files in one study upload (parts of a multipart request, or members of a zip).
STUDIES_MAX_FILES = env_int("STUDIES_MAX_FILES", 1000, minimum=1)
# Slices kept in one study (a larger series is refused, not cut short).
STUDIES_MAX_SLICES = env_int("STUDIES_MAX_SLICES", 500, minimum=1)
# Bytes of one study upload as sent (a zip, a .nii.gz, or the sum of its DICOM files).
STUDIES_MAX_UPLOAD_BYTES = env_int("STUDIES_MAX_UPLOAD_BYTES", 256 * 1024 * 1024, minimum=1)
# Bytes it may unpack to (zip members, a gunzipped volume): the zip-bomb bound.
STUDIES_MAX_UNCOMPRESSED_BYTES = env_int("STUDIES_MAX_UNCOMPRESSED_BYTES", 512 * 1024 * 1024, minimum=1)
STUDIES_UPLOADS_PER_HOUR = env_int("STUDIES_UPLOADS_PER_HOUR", 20, minimum=1)
# The key of the HMAC that replaces Study/Series Instance UIDs (studies.identity); by default derived
# from SECRET_KEY. Changing it only means that a series uploaded again is not recognised as the same one.
STUDIES_UID_HASH_KEY = env_str("STUDIES_UID_HASH_KEY") or f"studies-uid-hash:{SECRET_KEY}"
if len(STUDIES_UID_HASH_KEY) < 32:
    raise ImproperlyConfigured("STUDIES_UID_HASH_KEY must be at least 32 random characters.")
# A multipart study upload sends one part per DICOM file: Django's own cap (100) would refuse a series.
DATA_UPLOAD_MAX_NUMBER_FILES = STUDIES_MAX_FILES

# The sweep runs in Celery beat: `celery worker --beat` in the embedded Procfile; on the real
# stack exactly one `celery -A neuroscan beat` process (or one worker started with --beat).
CELERY_BEAT_SCHEDULE = {
    "scans-sweep": {"task": "scans.sweep", "schedule": float(SCANS_SWEEP_INTERVAL_SECONDS)},
    "studies-sweep": {"task": "studies.sweep", "schedule": float(SCANS_SWEEP_INTERVAL_SECONDS)},
}
# An upload must not hang on a dead broker: publishing is tried once (retry=False in
# scans.services.scan_publish) with short connect timeouts; the sweep sends it later.
CELERY_BROKER_CONNECTION_TIMEOUT = env_int("CELERY_BROKER_CONNECTION_TIMEOUT", 3, minimum=1)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
        # A publish without its own retry policy (retry=False) tries to connect once, instead of
        # retrying for CELERY_BROKER_CONNECTION_TIMEOUT. The worker's reconnect loop passes its
        # own policy (broker_connection_max_retries) and is unaffected.
        "max_retries": 0,
        # Redis hands an unacknowledged message (worker killed) to another worker after this;
        # it must exceed the task time limit. The sweep usually gets there first.
        "visibility_timeout": env_int("CELERY_REDIS_VISIBILITY_TIMEOUT", 600, minimum=1),
    }
    if CELERY_TASK_TIME_LIMIT >= CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]:
        raise ImproperlyConfigured("CELERY_REDIS_VISIBILITY_TIMEOUT must be longer than CELERY_TASK_TIME_LIMIT.")

# --- REST API (api/ app: Django REST framework + drf-spectacular) --------------------------------
# API tokens stop working this many days after they are made (and at once on a password change).
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 90, minimum=1)
REST_FRAMEWORK = {
    # Scripts send `Authorization: Token <key>`; the browser's session works too, with CSRF.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: no browsable API, and every answer (errors included) is JSON.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "NeuroScan API",
    "DESCRIPTION": (
        "AI-assisted reading of brain MRI slices. Results are an aid for trained readers, "
        "not a diagnosis. Authenticate with `Authorization: Token <key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from local static files (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.blank_strings_any_of",
                           "api.schema.unsupported_media_type_documented"],
    "ENUM_NAME_OVERRIDES": {
        "ScanStatusEnum": "scans.models.ScanStatus.choices",
        "LabelEnum": "ml.config.CLASS_NAMES",
        "ReviewDecisionEnum": "reviews.models.ReviewDecision.choices",
        "ReachabilityEnum": "api.health.REACHABILITY",
        "AnswerSourceEnum": "scans.answer.ANSWER_SOURCES",
        "AnswerStateEnum": "scans.answer.AnswerState.VALUES",
        "StudySourceEnum": "studies.models.StudySource.choices",
        "StudyStatusEnum": "studies.models.StudyStatus.choices",
        "StudyStateEnum": "studies.summary.StudyState.VALUES",
        "StudyFindingEnum": "studies.models.StudyFinding.choices",
        # One shape per review decision, shared by the scans' and the studies' review requests.
        "ConfirmReviewDecisionEnum": ["confirmed"],
        "OverrideReviewDecisionEnum": ["overridden"],
        "UnusableReviewDecisionEnum": ["unusable"],
    },
}
