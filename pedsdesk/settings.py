"""Settings for pedsdesk.

Development (the default) keeps everything under the data directory: SQLite in WAL
mode, huey's SQLite queue, a file cache. Production (``PEDSDESK_ENV=production``) takes
its secrets and hosts from the environment and turns on every transport protection.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from huey import RedisHuey, SqliteHuey

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent
ENV = os.environ.get("PEDSDESK_ENV", "development")
PRODUCTION = ENV == "production"

DATA_DIR = Path(os.environ.get("PEDSDESK_DATA_DIR", PROJECT_DIR / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _development_secret(name: str) -> str:
    # Kept in the data directory so sessions, family links and the audit chain survive restarts.
    path = DATA_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


if PRODUCTION:
    SECRET_KEY = os.environ["PEDSDESK_SECRET_KEY"]
    # No default: `check --deploy` fails and no audit event is written without it.
    PEDSDESK_AUDIT_KEY = os.environ.get("PEDSDESK_AUDIT_KEY", "")
    ALLOWED_HOSTS = [h.strip() for h in os.environ.get("PEDSDESK_ALLOWED_HOSTS", "").split(",") if h.strip()]
    DEBUG = False
else:
    SECRET_KEY = os.environ.get("PEDSDESK_SECRET_KEY") or _development_secret("secret_key")
    PEDSDESK_AUDIT_KEY = os.environ.get("PEDSDESK_AUDIT_KEY") or _development_secret("audit_key")
    ALLOWED_HOSTS = ["*"]
    DEBUG = os.environ.get("PEDSDESK_DEBUG") == "1"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "pedsdesk.practices",
    "pedsdesk.audit",
    "pedsdesk.files",
    "pedsdesk.schools",
    "pedsdesk.people",
    "pedsdesk.authorizations",
    "pedsdesk.portal",
    "pedsdesk.workqueue",
    "pedsdesk.messaging",
    "pedsdesk.operations",
    "pedsdesk.scheduling",
    "pedsdesk.hep",
    "pedsdesk.interop",
    "pedsdesk.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "pedsdesk.practices.middleware.UnstorableInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "pedsdesk.audit.reads.AuditReadsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "pedsdesk.practices.middleware.IdleLogoffMiddleware",
    "pedsdesk.practices.middleware.SecondFactorMiddleware",
    "pedsdesk.practices.middleware.PracticeTimeZoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "pedsdesk.urls"
WSGI_APPLICATION = "pedsdesk.wsgi.application"

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
                "django.template.context_processors.i18n",
                "pedsdesk.practices.context_processors.staff",
            ],
        },
    },
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("PEDSDESK_SQLITE_PATH", str(DATA_DIR / "pedsdesk.sqlite3")),
            "OPTIONS": {
                # IMMEDIATE: a writer takes the lock when its transaction starts, so two
                # bookings of one slot queue up instead of failing half-way.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "practices.StaffMember"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    HUEY = RedisHuey("pedsdesk", url=REDIS_URL)
else:
    # A file cache is shared by the web server and the worker on one machine.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }
    HUEY = SqliteHuey("pedsdesk", filename=str(DATA_DIR / "huey.sqlite3"))

# /metrics answers only with this bearer token; without it the page does not exist.
METRICS_TOKEN = os.environ.get("PEDSDESK_METRICS_TOKEN", "")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our few departures from Django's locale formats (the English clock: "9:00 AM").
FORMAT_MODULE_PATH = ["pedsdesk.formats"]
CSRF_FAILURE_VIEW = "pedsdesk.errors.csrf_failure"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("PEDSDESK_STATIC_ROOT", DATA_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Uploads and kept documents (pedsdesk/files): outside STATIC_ROOT, served by no URL;
# only a permission-checked view or a signed link reads them. Back it up with the database.
PEDSDESK_PRIVATE_DIR = Path(os.environ.get("PEDSDESK_PRIVATE_DIR", DATA_DIR / "private")).resolve()
PEDSDESK_UPLOAD_MAX_BYTES = int(os.environ.get("PEDSDESK_UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
PEDSDESK_IMAGE_MAX_PIXELS = int(os.environ.get("PEDSDESK_IMAGE_MAX_PIXELS", str(40_000_000)))
PEDSDESK_IMAGE_MAX_SIDE = int(os.environ.get("PEDSDESK_IMAGE_MAX_SIDE", "2400"))
# Signed audit checkpoints (pedsdesk/audit/checkpoints.py): somewhere a database writer cannot reach.
PEDSDESK_AUDIT_CHECKPOINT_DIR = Path(
    os.environ.get("PEDSDESK_AUDIT_CHECKPOINT_DIR", DATA_DIR / "audit-checkpoints")).resolve()
# Each practice's owners get their chain's signed head by email once a day from this local hour.
PEDSDESK_AUDIT_EMAIL_HOUR = int(os.environ.get("PEDSDESK_AUDIT_EMAIL_HOUR", "6"))
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Messages can carry a new family link once; keep them server-side, not in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
PEDSDESK_IDLE_MINUTES = int(os.environ.get("PEDSDESK_IDLE_MINUTES", "15"))
PEDSDESK_LOGIN_ATTEMPTS = int(os.environ.get("PEDSDESK_LOGIN_ATTEMPTS", "5"))
PEDSDESK_LOGIN_LOCKOUT_MINUTES = int(os.environ.get("PEDSDESK_LOGIN_LOCKOUT_MINUTES", "15"))
# Bad sign-ins from one address before it waits too: far above one person's typos, so a whole
# office behind one address keeps working, but a password-guessing run is stopped.
PEDSDESK_LOGIN_IP_ATTEMPTS = int(os.environ.get("PEDSDESK_LOGIN_IP_ATTEMPTS", "50"))
PEDSDESK_FAMILY_LINK_DAYS = int(os.environ.get("PEDSDESK_FAMILY_LINK_DAYS", "30"))
PEDSDESK_FAMILY_LINK_FAILURES = int(os.environ.get("PEDSDESK_FAMILY_LINK_FAILURES", "10"))
# Reverse proxies in front of pedsdesk that append to X-Forwarded-For (0: none).
PEDSDESK_TRUSTED_PROXIES = int(os.environ.get("PEDSDESK_TRUSTED_PROXIES", "0"))
PEDSDESK_BASE_URL = os.environ.get("PEDSDESK_BASE_URL", "http://127.0.0.1:8000")

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = os.environ.get("PEDSDESK_SSL_REDIRECT", "1") == "1"
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("PEDSDESK_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = [
        o.strip() for o in os.environ.get("PEDSDESK_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
    ]

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

EMAIL_BACKEND = os.environ.get("PEDSDESK_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("PEDSDESK_SMTP_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("PEDSDESK_SMTP_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("PEDSDESK_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("PEDSDESK_SMTP_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("PEDSDESK_SMTP_STARTTLS") == "1"
DEFAULT_FROM_EMAIL = os.environ.get("PEDSDESK_FROM_EMAIL", "pedsdesk@localhost")

# Messaging (pedsdesk/messaging). Channels: "console" writes to DATA_DIR/outbox and sends
# nothing; "smtp" uses the EMAIL_* settings above; "twilio" uses the TWILIO_* settings.
PEDSDESK_EMAIL_CHANNEL = os.environ.get(
    "PEDSDESK_EMAIL_CHANNEL", "smtp" if os.environ.get("PEDSDESK_SMTP_HOST") else "console")
PEDSDESK_SMS_CHANNEL = os.environ.get(
    "PEDSDESK_SMS_CHANNEL", "twilio" if os.environ.get("TWILIO_ACCOUNT_SID") else "console")
PEDSDESK_SMTP_TIMEOUT = float(os.environ.get("PEDSDESK_SMTP_TIMEOUT", "15"))
# Optional: an HTTP endpoint of the mail provider answering GET ?message_id=<id> with 200
# (accepted) or 404 (never seen); lets a crashed send be resolved instead of repeated.
PEDSDESK_EMAIL_LOOKUP_URL = os.environ.get("PEDSDESK_EMAIL_LOOKUP_URL", "")
PEDSDESK_MESSAGE_ID_DOMAIN = os.environ.get("PEDSDESK_MESSAGE_ID_DOMAIN", "") or (
    DEFAULT_FROM_EMAIL.rpartition("@")[2] or "pedsdesk.invalid")
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")
TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID", "")
# Tests point the client at a local server; production leaves it empty (api.twilio.com).
TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "")
TWILIO_TIMEOUT = float(os.environ.get("TWILIO_TIMEOUT", "15"))
# A worker owns a claimed message this long; a longer silence means it died.
PEDSDESK_MESSAGE_LEASE_SECONDS = float(os.environ.get("PEDSDESK_MESSAGE_LEASE_SECONDS", "300"))
PEDSDESK_MESSAGE_RETRY_BASE_SECONDS = float(os.environ.get("PEDSDESK_MESSAGE_RETRY_BASE_SECONDS", "60"))
PEDSDESK_MESSAGE_RETRY_MAX_SECONDS = float(os.environ.get("PEDSDESK_MESSAGE_RETRY_MAX_SECONDS", "3600"))
PEDSDESK_MESSAGE_MAX_ATTEMPTS = int(os.environ.get("PEDSDESK_MESSAGE_MAX_ATTEMPTS", "8"))
# Queueing a due message asks a worker to deliver it at once (else: the minute sweep).
PEDSDESK_MESSAGING_KICK = os.environ.get("PEDSDESK_MESSAGING_KICK", "1") == "1"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PEDSDESK_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
