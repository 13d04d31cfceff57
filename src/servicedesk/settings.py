"""Servicedesk settings: everything comes from the environment, with working defaults.

The embedded default (no variables set) is a SQLite file under ``SERVICEDESK_DATA_DIR``.
Set ``DATABASE_URL`` for PostgreSQL. Helpers fail loudly on malformed values.
"""

import os
import re
import secrets
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def env_int_at_least(name: str, default: int, minimum: int) -> int:
    value = env_int(name, default)
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_header(name: str) -> tuple[str, str] | None:
    """A request header and the value that marks it, ``HTTP_X_FORWARDED_PROTO=https``
    (``X-Forwarded-Proto=https`` says the same), as Django's ``request.META`` names it."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    header, _sep, value = (part.strip() for part in raw.partition("="))
    if not re.fullmatch(r"[A-Za-z0-9_-]+", header) or not value:
        raise ImproperlyConfigured(
            f"{name} must look like HTTP_X_FORWARDED_PROTO=https, not {raw!r}"
        )
    header = header.upper().replace("-", "_")
    return (header if header.startswith("HTTP_") else f"HTTP_{header}", value)


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str) -> str | None:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE``."""
    if os.environ.get(name):
        return os.environ[name]
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return None


DATA_DIR = Path(env_str("SERVICEDESK_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    # Kept in the data dir when not given, so sessions survive restarts.
    key = env_secret("SECRET_KEY")
    if key:
        return key
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
PORT = env_int("PORT", 8000)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # its static files: the API docs page is served locally, no CDN
    "axes",
    "csp",
    "servicedesk.core",
    "servicedesk.accounts",
    "servicedesk.tickets",
    "servicedesk.escalation",
    "servicedesk.changes",
    "servicedesk.sla",
    "servicedesk.mail",
    "servicedesk.ops",
    "servicedesk.api",
    "servicedesk.search",
    "servicedesk.desk",
    "servicedesk.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "servicedesk.core.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "servicedesk.core.middleware.UserLocaleMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it turns a locked-out sign-in into its page
]

ROOT_URLCONF = "servicedesk.urls"
WSGI_APPLICATION = "servicedesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database() -> dict:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        url = f"sqlite:///{DATA_DIR / 'servicedesk.sqlite3'}"
    config = dj_database_url.parse(url)
    engine = config["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        # Django's backend, with writers taking turns through the kernel (core/sqlite/base.py).
        config["ENGINE"] = "servicedesk.core.sqlite"
        # Tests run in memory (Django's default for SQLite; said here because tools such as
        # pytest-django's per-worker naming recognise SQLite by Django's own engine name).
        config["TEST"] = {"NAME": ":memory:"}
        config["OPTIONS"] = {
            # Writers queue behind one another instead of failing with "database is locked".
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                # The worker's relay checkpoints every second (ops.maintenance.checkpoint);
                # a connection does it itself only past 10,000 pages (40 MB) of log.
                "PRAGMA wal_autocheckpoint=10000;"
            ),
        }
        # One connection per worker thread, kept: opening one (and its PRAGMAs) per request
        # cost more than a whole API list request.
        config["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 600)
        config["CONN_HEALTH_CHECKS"] = True
    elif engine == "django.db.backends.postgresql":
        if env_bool("DATABASE_POOL", True):
            config["OPTIONS"] = {
                "pool": {"min_size": 1, "max_size": env_int("DATABASE_POOL_SIZE", 8)}
            }
        else:
            config["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)
    else:
        raise ImproperlyConfigured(f"DATABASE_URL must be sqlite:// or postgres://, not {engine}")
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "signin"  # one sign-in for staff and customers: staff land on the desk
LOGIN_REDIRECT_URL = "desk:queue"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French")), ("nb", _("Norwegian Bokmål"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("TIME_ZONE", "Europe/London")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE {TIME_ZONE!r} is not a known IANA time zone") from None

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request when it is missing
MEDIA_ROOT = Path(env_str("SERVICEDESK_MEDIA_DIR", str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve static files without a collectstatic step in dev and tests

# Largest attachment accepted, in bytes (default 20 MiB).
SERVICEDESK_MAX_ATTACHMENT_BYTES = env_int("SERVICEDESK_MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024)
# Request bodies held in memory: an API reply carries attachments in base64 (4/3 larger) and
# an import call up to 5,000 tickets.
DATA_UPLOAD_MAX_MEMORY_SIZE = (
    max(SERVICEDESK_MAX_ATTACHMENT_BYTES * 4 // 3, 32 * 1024 * 1024) + 2**20
)
# The token that names a ticket in email subjects: "[SD#10042]".
SERVICEDESK_TICKET_PREFIX = env_str("SERVICEDESK_TICKET_PREFIX", "SD")
SERVICEDESK_CHANGE_PREFIX = env_str("SERVICEDESK_CHANGE_PREFIX", "CR")

# Background work: django-tasks on the database by default; RQ on Redis by configuration.
SERVICEDESK_TASKS_BACKEND = env_str("SERVICEDESK_TASKS_BACKEND", "database")
if SERVICEDESK_TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
elif SERVICEDESK_TASKS_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq"]
    RQ_QUEUES = {"default": {"URL": env_str("REDIS_URL", "redis://127.0.0.1:6379/0")}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
elif SERVICEDESK_TASKS_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
else:
    raise ImproperlyConfigured("SERVICEDESK_TASKS_BACKEND must be database, rq or immediate")

# Mail out: SMTP by default. The password only from the environment (or EMAIL_HOST_PASSWORD_FILE).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Servicedesk <support@servicedesk.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Mail in. The desk's own addresses: mail from them is never a ticket (a loop); the first
# part of DEFAULT_FROM_EMAIL is always one of them.
SERVICEDESK_MAIL_ADDRESSES = sorted(
    {
        parseaddr(DEFAULT_FROM_EMAIL)[1].lower(),
        *(a.lower() for a in env_list("SERVICEDESK_MAIL_ADDRESSES", [])),
    }
    - {""}
)
# The domain of the Message-IDs the desk writes.
SERVICEDESK_MAIL_DOMAIN = env_str(
    "SERVICEDESK_MAIL_DOMAIN", parseaddr(DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
)
# Runaway loops: more messages than this from one sender within an hour are kept but ignored.
SERVICEDESK_MAIL_SENDER_LIMIT = env_int("SERVICEDESK_MAIL_SENDER_LIMIT", 30)
# Who a message is from: mail from a staff address acts as staff only when a receiving server
# we trust (its authserv-id in Authentication-Results) says DMARC passed, or DKIM or SPF
# passed aligned with the From domain. None trusted: staff mail is kept as unverified notes.
SERVICEDESK_MAIL_TRUSTED_AUTHSERV_IDS = [
    a.lower() for a in env_list("SERVICEDESK_MAIL_TRUSTED_AUTHSERV_IDS", [])
]
# The same rule for customer senders (off: a customer is who their From says).
SERVICEDESK_MAIL_VERIFY_CUSTOMERS = env_bool("SERVICEDESK_MAIL_VERIFY_CUSTOMERS", False)
# The desk's public address, for the links in emails (signed login links, ratings).
SERVICEDESK_BASE_URL = env_str("SERVICEDESK_BASE_URL", "http://127.0.0.1:8000")
# How long a signed link in an email works (it signs in once).
SERVICEDESK_LINK_DAYS = env_int_at_least("SERVICEDESK_LINK_DAYS", 7, 1)
# Closing the loop (SPEC §8): a resolved ticket's requester is asked to confirm; without an
# answer, up to SERVICEDESK_CLOSING_REMINDERS reminders every SERVICEDESK_CLOSING_INTERVAL_DAYS
# business days of the ticket's calendar, then the ticket closes by itself.
SERVICEDESK_CLOSING_REMINDERS = env_int_at_least("SERVICEDESK_CLOSING_REMINDERS", 3, 0)
SERVICEDESK_CLOSING_INTERVAL_DAYS = env_int_at_least("SERVICEDESK_CLOSING_INTERVAL_DAYS", 2, 1)
# A customer may re-open a resolved or closed ticket within this many days; later, a new one.
SERVICEDESK_REOPEN_DAYS = env_int_at_least("SERVICEDESK_REOPEN_DAYS", 14, 0)
# Status look-ups at /status/: more than this many an hour from one address or for one
# number are refused (with the same page).
SERVICEDESK_STATUS_LOOKUPS_PER_HOUR = env_int_at_least("SERVICEDESK_STATUS_LOOKUPS_PER_HOUR", 10, 1)
# Larger inbound messages are kept raw and quarantined, never parsed.
SERVICEDESK_MAIL_MAX_BYTES = env_int("SERVICEDESK_MAIL_MAX_BYTES", 40 * 1024 * 1024)

SESSION_ENGINE = "servicedesk.core.sessions"  # Django's database sessions, their read prepared
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Transport. Off by default so `make run` works on http://127.0.0.1; production behind TLS
# sets them (`servicedesk check --deploy` says what is missing).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SERVICEDESK_SECURE_COOKIES", False)
SECURE_HSTS_SECONDS = env_int_at_least("SERVICEDESK_HSTS_SECONDS", 0, 0)
# The desk usually has a host of its own (desk.example.com): its subdomains are its own too.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SERVICEDESK_HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading is the domain owner's decision (a submission to the browsers' lists, for the
# whole registrable domain): off unless asked for, and Django's reminder of it is silenced.
SECURE_HSTS_PRELOAD = env_bool("SERVICEDESK_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# The header a TLS-terminating proxy sets, e.g. HTTP_X_FORWARDED_PROTO=https. Only behind a
# proxy that always sets or strips it: else a client could claim https itself.
SECURE_PROXY_SSL_HEADER = env_header("SERVICEDESK_PROXY_SSL_HEADER")
SECURE_SSL_REDIRECT = env_bool("SERVICEDESK_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^health$"]  # probes check the process over plain http
# Proxies in front that append the client's address to X-Forwarded-For (0: the address is
# the connection's). Failed sign-ins are counted per address, so it must be the client's.
SERVICEDESK_TRUSTED_PROXIES = env_int_at_least("SERVICEDESK_TRUSTED_PROXIES", 0, 0)

# Failed sign-ins (django-axes), on every form that signs in through Django's
# authenticate(request, ...): the admin's now. After SERVICEDESK_LOGIN_FAILURE_LIMIT failures
# for one account (from any address), or from one address (for any accounts), sign-in is
# refused there until SERVICEDESK_LOGIN_COOLOFF_MINUTES have passed since the last failure.
# A success does not clear the count: it would let someone with an account of their own
# reset their address's count between guesses. `servicedesk axes_reset_username EMAIL`
# (or the admin's "Access attempts") lifts a lock at once.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "servicedesk.accounts.backends.AccountBackend",  # Django's ModelBackend, its read prepared
]
AXES_FAILURE_LIMIT = env_int_at_least("SERVICEDESK_LOGIN_FAILURE_LIMIT", 5, 1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int_at_least("SERVICEDESK_LOGIN_COOLOFF_MINUTES", 15, 1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_CALLABLE = "servicedesk.accounts.signin.attempted_email"
AXES_CLIENT_IP_CALLABLE = "servicedesk.accounts.signin.client_address"
AXES_LOCKOUT_CALLABLE = "servicedesk.accounts.signin.locked_out"
# No banner on every command's start (an MTA's pipe reads stderr); lockouts are still logged.
AXES_VERBOSE = False

# Content-Security-Policy (django-csp) on every response: scripts and styles from our own
# origin only, never inline. The admin's pages add what django-unfold needs (core/csp.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint logs each of its seven steps for every PDF (the monthly reports) at INFO.
    "loggers": {"weasyprint.progress": {"level": "WARNING"}},
}

UNFOLD = {
    "SITE_TITLE": "Servicedesk",
    "SITE_HEADER": "Servicedesk",
    "SHOW_LANGUAGES": True,
}

# API: requests per minute per token (0: no limit). Counted in the cache: per process with the
# default local-memory cache; set SERVICEDESK_CACHE_URL (redis://…) to share it between workers.
SERVICEDESK_API_RATE_LIMIT = env_int("SERVICEDESK_API_RATE_LIMIT", 600)
CACHE_URL = env_str("SERVICEDESK_CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Webhook deliveries: how long to wait for the receiver.
SERVICEDESK_WEBHOOK_TIMEOUT = env_int("SERVICEDESK_WEBHOOK_TIMEOUT", 10)
