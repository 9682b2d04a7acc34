"""Django settings for the CoCM registry.

Everything that differs between machines comes from environment variables, parsed by
environs: a bad value stops start-up with a message naming the variable and what is wrong
with it. Development is the default mode; `COCM_MODE=production` (set by
`cocm serve --production`) refuses to start with DEBUG on, a missing or default secret key,
or no allowed hosts.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from environs import Env
from marshmallow.validate import OneOf, Range

env = Env()

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = env.path("COCM_DATA_DIR", PACKAGE_DIR.parent / "var")

PRODUCTION = (
    env.str("COCM_MODE", "development", validate=OneOf(["development", "production"]))
    == "production"
)
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-never-use-in-production"  # noqa: S105

SECRET_KEY = env.str("COCM_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
DEBUG = env.bool("COCM_DEBUG", not PRODUCTION)
ALLOWED_HOSTS = [
    host.strip()
    for host in env.list("COCM_ALLOWED_HOSTS", [] if PRODUCTION else ["*"])
    if host.strip()
]

SILENCED_SYSTEM_CHECKS: list[str] = []

if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("COCM_DEBUG must be off in production mode.")
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "COCM_SECRET_KEY must be set to a random value of at least 50 characters "
            "in production mode."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("COCM_ALLOWED_HOSTS must name the host(s) served.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_ratelimit",
    "ninja",  # serves the API docs from its own static files, not a CDN
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "cocm.accounts",
    "cocm.registry",
    "cocm.bench",
    "cocm.measures",
    "cocm.care",
    "cocm.billing",
    "cocm.reports",
    "cocm.finance",
    "cocm.interop",
    "django_tasks",
    "django_tasks_db",
    "cocm.toolkit",
]

MIDDLEWARE = [
    "cocm.accounts.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "cocm.accounts.middleware.InactivityTimeoutMiddleware",
    "cocm.accounts.middleware.TwoFactorMiddleware",
    "cocm.accounts.middleware.AccessAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    "cocm.accounts.middleware.OrganizationTimezoneMiddleware",
    # Last, as django-axes requires: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cocm.urls"
WSGI_APPLICATION = "cocm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cocm.accounts.context_processors.navigation",
            ],
        },
    },
]

SQLITE_PATH = DATA_DIR / "cocm.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        env.str("DATABASE_URL", f"sqlite:///{SQLITE_PATH}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # WAL lets readers proceed while one writer commits; IMMEDIATE avoids the
    # "database is locked" upgrade deadlock between two writers.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# A streaming replica of the primary for reads that may lag by seconds (cocm/replica.py,
# docs/scale.md). In tests it mirrors the primary's test database.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", "")
COCM_READ_REPLICA = "replica" if DATABASE_REPLICA_URL else None
if COCM_READ_REPLICA:
    DATABASES[COCM_READ_REPLICA] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=60)
    DATABASES[COCM_READ_REPLICA]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["cocm.replica.ReplicaRouter"]
# Writes a lag-tolerant read makes as a side effect (its audit event, a token's last use,
# recomputed caseload rows): they do not send the rest of the request to the primary.
COCM_REPLICA_WRITES_KEEPING_READS = frozenset(
    {
        "accounts.AuditEvent",
        "accounts.AuditChainHead",
        "accounts.ApiToken",
        "sessions.Session",
        "care.CaseloadRow",
    }
)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-axes checks for a lockout before Django checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five failed sign-ins for one username from one address lock that pair for 15 minutes.
AXES_FAILURE_LIMIT = env.int("COCM_LOCKOUT_FAILURES", 5, validate=Range(min=1))
AXES_COOLOFF_TIME = timedelta(minutes=env.int("COCM_LOCKOUT_MINUTES", 15, validate=Range(min=1)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "cocm.accounts.views.locked_out"
# django-axes's log lines would name the username and address; the audit log has them.
AXES_VERBOSE = False
AXES_CLIENT_STR_CALLABLE = "cocm.accounts.audit.unnamed_client"
AXES_CLIENT_IP_CALLABLE = "cocm.accounts.audit.client_address"
# Reverse proxies in front of the product that append to X-Forwarded-For (docs/deploy.md);
# 0 trusts REMOTE_ADDR alone, so a client cannot forge its address.
COCM_PROXY_COUNT = env.int("COCM_PROXY_COUNT", 0, validate=Range(min=0))
# Emergency ("break-glass") access to a patient outside one's clinics lasts this long.
COCM_BREAK_GLASS_HOURS = env.int("COCM_BREAK_GLASS_HOURS", 4, validate=Range(min=1, max=24))
# Two-factor sign-in: time-based one-time passwords (RFC 6238) from an authenticator app.
OTP_TOTP_ISSUER = "CoCM Registry"
COCM_TWO_FACTOR_EXEMPT_URLS = ("two_factor", "logout", "login", "self_report", "survey_response")
# Roles that always sign in with a one-time code, whatever the organization chose (it may
# add others): organization admins hold users, roles and the audit log. Comma-separated.
COCM_TWO_FACTOR_ROLES = tuple(
    role.strip() for role in env.list("COCM_TWO_FACTOR_ROLES", ["org_admin"]) if role.strip()
)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
# Production serves the collected files; development serves them from the apps.
STATIC_ROOT = env.path("COCM_STATIC_ROOT", DATA_DIR / "staticfiles") if PRODUCTION else None
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "cocm.static_storage.GzipManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Sessions and cookies: HTTP-only, same-site, secure behind HTTPS in production.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("COCM_SESSION_IDLE_MINUTES", 15, validate=Range(min=1)) * 60
SESSION_SAVE_EVERY_REQUEST = True  # the idle time-out restarts on every request
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Polling (the notification badge) does not count as activity; this middleware setting
# signs a user out after the idle minutes even while a page keeps polling.
COCM_SESSION_IDLE_SECONDS = SESSION_COOKIE_AGE
CSRF_COOKIE_HTTPONLY = True  # pages send the token from the template, never from JavaScript
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content Security Policy: scripts, styles and images from this site only; no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Request bodies: form and JSON data up to 1 MiB, whole requests (file uploads) up to
# 10 MiB; larger ones get a 413 that says so (RequestSizeLimitMiddleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("COCM_MAX_DATA_BYTES", 1024 * 1024, validate=Range(min=1))
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
# Background work (cocm worker): django-tasks with its database backend, so it runs on
# SQLite and PostgreSQL without another server.
TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
COCM_TASK_RETRY_SECONDS = env.int("COCM_TASK_RETRY_SECONDS", 60, validate=Range(min=0))
# Bulk Data exports: NDJSON files written here, removed after COCM_EXPORT_HOURS.
COCM_EXPORT_DIR = env.path("COCM_EXPORT_DIR", DATA_DIR / "exports")
COCM_EXPORT_HOURS = env.int("COCM_EXPORT_HOURS", 24, validate=Range(min=1))
# FHIR bundles (POST /fhir) up to 20 MiB; `cocm import fhir` reads files of any size.
COCM_MAX_FHIR_BYTES = env.int("COCM_MAX_FHIR_BYTES", 20 * 1024 * 1024, validate=Range(min=1))
COCM_MAX_UPLOAD_BYTES = env.int("COCM_MAX_UPLOAD_BYTES", 10 * 1024 * 1024, validate=Range(min=1))
# Signed consent scans (PDF or image), below the request limit so the form can say so.
COCM_CONSENT_DOCUMENT_MAX_BYTES = env.int(
    "COCM_CONSENT_DOCUMENT_MAX_BYTES", 5 * 1024 * 1024, validate=Range(min=1)
)
# Uploaded files (consent scans): never served from a public URL, only by an audited view.
MEDIA_ROOT = env.path("COCM_MEDIA_ROOT", DATA_DIR / "media")
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("COCM_SSL_REDIRECT", True)
    if not SECURE_SSL_REDIRECT:
        # The operator states that the reverse proxy redirects to HTTPS (docs/deploy.md).
        SILENCED_SYSTEM_CHECKS.append("security.W008")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("COCM_HSTS_SECONDS", 31536000, validate=Range(min=0))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = [
        origin for origin in env.list("COCM_CSRF_TRUSTED_ORIGINS", []) if origin
    ]

EMAIL_BACKEND = env.str(
    "COCM_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env.str("COCM_FROM_EMAIL", "cocm-registry@localhost")

# Self-report links and notifications.
COCM_BASE_URL = env.str("COCM_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
COCM_SELF_REPORT_DAYS = env.int("COCM_SELF_REPORT_DAYS", 4, validate=Range(min=1))
COCM_SELF_REPORT_REMINDER_HOURS = env.int(
    "COCM_SELF_REPORT_REMINDER_HOURS", 48, validate=Range(min=1)
)
COCM_SELF_REPORT_RATE = env.str("COCM_SELF_REPORT_RATE", "30/m")
COCM_SMS_BACKEND = env.str("COCM_SMS_BACKEND", "cocm.measures.sms.FileBackend")
COCM_SMS_FILE = env.str("COCM_SMS_FILE", str(DATA_DIR / "sms-outbox.log"))
# GAD-7 remission below 5 follows the PHQ-9 convention ([I], rules section 3).
COCM_REMISSION_CUTOFF = env.int("COCM_REMISSION_CUTOFF", 5, validate=Range(min=1, max=27))

# Date bounds (cocm/domain/dates.py): birth dates at most this many years ago, record dates
# (referrals, visits, coverage) at most this many years ago.
COCM_OLDEST_AGE_YEARS = env.int("COCM_OLDEST_AGE_YEARS", 125, validate=Range(min=1, max=150))
COCM_RECORD_YEARS_BACK = env.int("COCM_RECORD_YEARS_BACK", 30, validate=Range(min=1, max=150))

# Rate limits (self-report links) count in this cache. Redis shares the counts across
# workers; without it each worker counts on its own (limits are then per worker).
REDIS_URL = env.str("COCM_REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SILENCED_SYSTEM_CHECKS.append("django_ratelimit.W001")
if not REDIS_URL:
    SILENCED_SYSTEM_CHECKS.append("django_ratelimit.E003")
RATELIMIT_VIEW = "cocm.measures.views.rate_limited"

# Application logs carry no patient data: only request paths (which hold ids, never
# names or MRNs) and errors.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": env.str(
            "COCM_LOG_LEVEL",
            "WARNING",
            validate=OneOf(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]),
        ),
    },
}
