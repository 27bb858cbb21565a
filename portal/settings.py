"""Settings, all from environment variables (see the README's configuration table)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url
from redis.backoff import NoBackoff
from redis.retry import Retry

from portal.env import env_bool, env_float, env_int, env_list, env_rate, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
TESTING = "pytest" in sys.modules or env_bool("PORTAL_TESTING", False)

# Without SECRET_KEY, management commands (makemigrations, check, tests) still work with a
# development key, but the WSGI entry point refuses to serve with it unless DEBUG is on, and
# `check --deploy` reports it (portal/checks.py).
SECRET_KEY = env_secret("SECRET_KEY") or ""
DEVELOPMENT_SECRET_KEY = "insecure-development-key-do-not-use-in-production-0123456789"
if not SECRET_KEY:
    SECRET_KEY = DEVELOPMENT_SECRET_KEY

# Keys that hash consumer secrets and API tokens, and encrypt credentials at rest. Separate from
# SECRET_KEY so that rotating session signing does not invalidate every stored secret.
# Falling back to SECRET_KEY is for development: `check --deploy` refuses it (portal/checks.py).
PORTAL_HASH_KEY = env_secret("PORTAL_HASH_KEY") or ""
PORTAL_ENCRYPTION_KEY = env_secret("PORTAL_ENCRYPTION_KEY") or ""
PORTAL_KEYS_FROM_SECRET_KEY = [
    name for name in ("PORTAL_HASH_KEY", "PORTAL_ENCRYPTION_KEY") if not globals()[name]
]
PORTAL_HASH_KEY = PORTAL_HASH_KEY or SECRET_KEY
PORTAL_ENCRYPTION_KEY = PORTAL_ENCRYPTION_KEY or SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG or TESTING else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "oauth2_provider",
    "portal",
    "keymanagers",
    "keys",
    "portal.apiclients",
]

# portal.middleware's classes are Django's own, skipped on the OAuth API's paths (below): those
# requests carry a client secret or a bearer token, never a session (README "Performance"). The
# session and CSRF middleware keep their names: check --deploy looks for them.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "portal.middleware.AuthenticationMiddleware",
    "portal.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.middleware.CSPMiddleware",
]
# The resident server's endpoints that use no browser session (authorize and sign-in do).
PORTAL_API_PATHS = frozenset(
    {
        "/oauth2/token",
        "/oauth2/introspect",
        "/oauth2/revoke",
        "/oauth2/jwks",
        "/oauth2/userinfo",
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-authorization-server/oauth2",
        "/.well-known/openid-configuration",
        "/oauth2/.well-known/openid-configuration",
    }
)
PORTAL_API_PATH_PREFIXES = ("/sample/",)

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's, with a health check that makes no round trip on an idle, untouched connection.
    DATABASES["default"]["ENGINE"] = "portal.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo database: WAL lets the dev server read while a request writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache holds sign-in failure counts, rate-limit counters and Keycloak's (encrypted)
# service-account token. Redis when several instances run; its failures degrade to cache misses
# (portal/cache.py), with short timeouts so a hung Redis cannot stall requests.
REDIS_URL = env_str("REDIS_URL")
REDIS_TIMEOUT = env_float("REDIS_TIMEOUT", 0.5)
REDIS_RETRY_SECONDS = env_float("REDIS_RETRY_SECONDS", 10.0)
# Tests running in parallel (pytest-xdist) share one Redis database: each worker its own prefix.
_CACHE_PREFIX = env_str("CACHE_KEY_PREFIX", "devportal") + (
    "-" + os.environ["PYTEST_XDIST_WORKER"] if TESTING and os.environ.get("PYTEST_XDIST_WORKER") else ""
)
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "portal.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": _CACHE_PREFIX,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT,
                "socket_timeout": REDIS_TIMEOUT,
                # redis-py retries with back-off by default (seconds per call on a dead server):
                # one try, then portal.cache pauses Redis for REDIS_RETRY_SECONDS.
                "retry": Retry(NoBackoff(), 0),
            },
        }
    }

# Sessions in the database under a keyed hash of their key (portal/sessions.py): a dump of
# django_session signs nobody in. Staff sessions are shorter (portal/accounts/signals.py).
SESSION_ENGINE = "portal.sessions"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600)
PORTAL_STAFF_SESSION_SECONDS = env_int("PORTAL_STAFF_SESSION_SECONDS", 8 * 3600)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Users are created in almost every test; PBKDF2 at a million rounds would dominate the run.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "applications"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Development and tests serve static/ directly (no collectstatic), as DEBUG alone would.
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = DEBUG or TESTING

# Email: SMTP when EMAIL_HOST is set. Without it the console backend prints mails (password-reset
# and verification links included) to the log: fine for the demo, an account takeover in
# production, so with DEBUG off mails are dropped with an error instead, and `check --deploy`
# fails (portal/checks.py).
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
    if DEBUG or TESTING
    else "portal.mail.UnconfiguredEmailBackend"  # never the log: it drops mails with an error
)
EMAIL_TIMEOUT = env_float("EMAIL_TIMEOUT", 10.0)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Developer Portal <noreply@localhost>")

# Security: secure defaults that `check --deploy` approves of when DEBUG is off.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# How many proxies we run in front of the portal (each appends to X-Forwarded-For); 0 = none, use
# REMOTE_ADDR. Used to tell clients apart for the sign-in failure limit.
PORTAL_TRUSTED_PROXIES = env_int("PORTAL_TRUSTED_PROXIES", 0)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_X_FORWARDED_PROTO", False) else None
)
_HTTPS = env_bool("PORTAL_HTTPS", not (DEBUG or TESTING))
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _HTTPS
SECURE_HSTS_PRELOAD = _HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Strict CSP: nothing from elsewhere, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Product switches.
PORTAL_SIGNUP_ENABLED = env_bool("PORTAL_SIGNUP_ENABLED", True)
PORTAL_SIGNUP_EMAIL_VERIFICATION = env_bool("PORTAL_SIGNUP_EMAIL_VERIFICATION", True)
PORTAL_API_TOKEN_MAX_DAYS = env_int("PORTAL_API_TOKEN_MAX_DAYS", 365)
PORTAL_KEYMANAGER_TIMEOUT = env_float("PORTAL_KEYMANAGER_TIMEOUT", 10.0)
# Server-side fetches of admin- or server-supplied URLs (keymanagers/http.py) refuse loopback,
# private, link-local (cloud metadata) and other non-public addresses unless this is on: for a key
# manager on the same host or private network, and for the tests' local peers.
PORTAL_KEYMANAGER_ALLOW_PRIVATE_ADDRESSES = env_bool("PORTAL_KEYMANAGER_ALLOW_PRIVATE_ADDRESSES", TESTING)

# Abuse limits (portal/ratelimit.py), counted in the shared cache: "<count>/<period>".
PORTAL_RATELIMIT_ENABLED = env_bool("PORTAL_RATELIMIT_ENABLED", True)
PORTAL_RATELIMIT_OAUTH_CLIENT = env_rate("PORTAL_RATELIMIT_OAUTH_CLIENT", "600/m")
PORTAL_RATELIMIT_OAUTH_ADDRESS = env_rate("PORTAL_RATELIMIT_OAUTH_ADDRESS", "1200/m")
PORTAL_RATELIMIT_INTROSPECT_CLIENT = env_rate("PORTAL_RATELIMIT_INTROSPECT_CLIENT", "6000/m")
PORTAL_RATELIMIT_INTROSPECT_ADDRESS = env_rate("PORTAL_RATELIMIT_INTROSPECT_ADDRESS", "12000/m")
PORTAL_RATELIMIT_API_USER = env_rate("PORTAL_RATELIMIT_API_USER", "600/m")
PORTAL_RATELIMIT_SIGNUP_ADDRESS = env_rate("PORTAL_RATELIMIT_SIGNUP_ADDRESS", "10/h")
PORTAL_RATELIMIT_SIGNUP_EMAIL = env_rate("PORTAL_RATELIMIT_SIGNUP_EMAIL", "3/h")
PORTAL_RATELIMIT_RESET_ADDRESS = env_rate("PORTAL_RATELIMIT_RESET_ADDRESS", "10/h")
PORTAL_RATELIMIT_RESET_EMAIL = env_rate("PORTAL_RATELIMIT_RESET_EMAIL", "3/h")
RATELIMIT_ENABLE = PORTAL_RATELIMIT_ENABLED
# With Redis unavailable no count can be kept: the limits are skipped (portal/cache.py logs it).
RATELIMIT_FAIL_OPEN = True
RATELIMIT_CACHE_PREFIX = "rl:"

# REST framework: the devportal API answers errors as {"code", "message", "description"}.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.authentication.ApiTokenAuthentication",
        # OAuth tokens of clients registered at /client-registration/v0.17/register (the reference's login).
        "portal.apiclients.authentication.ApiClientTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # OperationScope: an API client's token needs one of the operation's apim:* scopes
    # (portal/apiclients/scopes.py); personal tokens and sessions have all their user's rights.
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "portal.apiclients.permissions.OperationScope",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "portal.api_errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # One limit per user over all their API tokens and their session (portal/ratelimit.py).
    "DEFAULT_THROTTLE_CLASSES": ["portal.ratelimit.ApiUserThrottle"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Developer Portal API",
    "DESCRIPTION": "Devportal REST API v3: applications, keys, secrets, tokens.",
    "VERSION": "3",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/am/devportal/v3",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.openapi.camel_case_path_parameters",
    ],
}

# django-oauth-toolkit: the resident authorization server (keymanagers/resident).
OAUTH2_PROVIDER_APPLICATION_MODEL = "keymanagers.OAuthClient"
OAUTH2_PROVIDER = {
    "OAUTH2_VALIDATOR_CLASS": "keymanagers.resident.validator.ResidentValidator",
    "OAUTH2_SERVER_CLASS": "keymanagers.resident.server.ResidentServer",
    # Hands oauthlib the form Django parsed instead of re-encoding it for a second parse.
    "OAUTH2_BACKEND_CLASS": "keymanagers.resident.server.ResidentOAuthLibCore",
    "SCOPES_BACKEND_CLASS": "keymanagers.resident.scopes.ResidentScopes",
    "ACCESS_TOKEN_GENERATOR": "keymanagers.resident.tokens.generate_access_token",
    "REFRESH_TOKEN_GENERATOR": "keymanagers.resident.tokens.generate_refresh_token",
    "PKCE_REQUIRED": False,  # per client: ResidentValidator.is_pkce_required
    "OIDC_ENABLED": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],
    "REQUEST_APPROVAL_PROMPT": "auto",
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    # Refresh-token lifetime is per client (ResidentValidator.validate_refresh_token); DOT's global
    # check would cut a longer client lifetime short. The default is RESIDENT_REFRESH_TOKEN_EXPIRE_SECONDS.
    "REFRESH_TOKEN_EXPIRE_SECONDS": None,
    # RFC 9700 (OAuth security BCP) gates that cost us nothing: bearer tokens only in the
    # Authorization header, RFC 9207 `iss` in authorization responses, and a replayed refresh
    # token revokes its whole family.
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # Access and refresh tokens are kept only as their SHA-256 checksum (lookups use it anyway),
    # so a database leak yields no usable token.
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
}
# DOT's RFC 9700 deploy warnings for behaviour the product offers on purpose, per client, where
# the global switch cannot see it: implicit and password grants only where an admin allowed them,
# PKCE plain only for a key with "Support PKCE Plain Text" (ResidentServer's pre-auth check), http
# callbacks for native-app loopback redirects (RFC 8252), and PKCE required per key
# (ResidentValidator.is_pkce_required).
SILENCED_SYSTEM_CHECKS = [
    "oauth2_provider.W001",
    "oauth2_provider.W002",
    "oauth2_provider.W003",
    "oauth2_provider.W008",
    "oauth2_provider.W010",
]
RESIDENT_JWT_ALGORITHM = env_str("RESIDENT_JWT_ALGORITHM", "RS256")
RESIDENT_SIGNING_KEY_FILE = env_str("RESIDENT_SIGNING_KEY_FILE")
RESIDENT_ISSUER = env_str("RESIDENT_ISSUER", SITE_URL + "/oauth2")
RESIDENT_REFRESH_TOKEN_EXPIRE_SECONDS = env_int("RESIDENT_REFRESH_TOKEN_EXPIRE_SECONDS", 86400)
# PostgreSQL commits issued tokens without waiting for the disk flush (README "Performance"): a
# crash can lose the last few hundred milliseconds of issued tokens, which then fail as unknown.
RESIDENT_TOKEN_ASYNC_COMMIT = env_bool("RESIDENT_TOKEN_ASYNC_COMMIT", True)
# How long a process trusts its idea of the active signing key: other instances see a rotation
# within this. Tests roll the database back under the cache, so they read the keys every time.
RESIDENT_SIGNING_KEY_CACHE_SECONDS = env_int("RESIDENT_SIGNING_KEY_CACHE_SECONDS", 0 if TESTING else 60)
# The `iss` of authorization responses (RFC 9207) and ID tokens is the resident issuer.
OAUTH2_PROVIDER["OIDC_ISS_ENDPOINT"] = RESIDENT_ISSUER

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # oauthlib logs request bodies (client secrets, codes) at DEBUG: never let it.
        "oauthlib": {"level": "WARNING"},
        "oauth2_provider": {"level": "WARNING"},
        # httpx logs every request URL at INFO; keymanagers.http logs what we need (method, path, status).
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "django.db.backends": {"level": "INFO"},
    },
}
