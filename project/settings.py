"""Settings of the demo site. Everything secret or machine-specific comes from the environment.

- ``STRIPE_SECRET_KEY`` / ``STRIPE_PUBLISHABLE_KEY``: Stripe test keys.
- ``STRIPE_WEBHOOK_SECRET``: the webhook endpoint's signing secret (``whsec_…``).
- ``STRIPE_API_BASE``: send every Stripe API call to this base URL instead of Stripe
  (for example the project's Stripe double, ``http://127.0.0.1:12111``).
- ``STRIPE_JS_STAND_IN`` (``1``/``0``, default ``1``): with ``STRIPE_API_BASE``, the pages
  load the demo's stand-in for Stripe.js instead of Stripe's.
- ``DATABASE_URL``: e.g. ``postgres://user:pass@127.0.0.1/db``; default a SQLite file.
- ``CONN_MAX_AGE``: seconds a server thread keeps its database connection (default 60;
  ``0``: a connection per request). Under ASGI see project/asgi.py.
- ``DJANGO_SECRET_KEY``, ``DJANGO_DEBUG`` (``1``/``0``), ``DJANGO_ALLOWED_HOSTS``.
- ``REDIS_URL``: e.g. ``redis://127.0.0.1:6379/0`` or ``unix:///run/redis.sock``; a cache
  shared by every server process (the endpoint's throttle counts live there). Default: a
  per-process memory cache, right for one process only.
- ``SITE_SESSION_RATE``: e.g. ``10/s``, the most Customer Sessions the whole site asks
  Stripe for (unset: no site-wide cap); shared across processes with ``REDIS_URL``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import dj_database_url
import django

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "demo-only-insecure-secret-key-set-DJANGO_SECRET_KEY-in-production"
)
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # Tokens for the demo's mobile clients (docs/mobile.md): `make demo` migrates its table.
    "rest_framework.authtoken",
    "customer_sessions",
    "project",
]
# The demo serves its OpenAPI schema at /api/schema/ when drf-spectacular is installed
# (it is part of the test extra, not a dependency of the app).
SCHEMA = importlib.util.find_spec("drf_spectacular") is not None
if SCHEMA:
    INSTALLED_APPS.append("drf_spectacular")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "customer_sessions.middleware.CustomerSessionMiddleware",
]

# The demo's Content-Security-Policy: 'self' and the origins Stripe documents for Stripe.js,
# the Payment Element, the Pricing Table and the Buy Button (scripts and frames from
# js.stripe.com, 3-D Secure frames from hooks.stripe.com, fetch to api.stripe.com, card
# logos from *.stripe.com). No inline script or style, no eval: a secret reaches a script
# only through a json_script element, which is data, not script. Django has its own CSP
# middleware from 6.0; on 5.2 django-csp (the well-kept package Django's was modelled on)
# sets the same policy.
STRIPE_JS = ["https://js.stripe.com", "https://*.js.stripe.com"]
CSP_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'", *STRIPE_JS],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "https://*.stripe.com"],
    "font-src": ["'self'"],
    "connect-src": ["'self'", "https://api.stripe.com"],
    "frame-src": [*STRIPE_JS, "https://hooks.stripe.com"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
if django.VERSION >= (6, 0):
    MIDDLEWARE.append("django.middleware.csp.ContentSecurityPolicyMiddleware")
    SECURE_CSP = CSP_POLICY
else:
    MIDDLEWARE.append("csp.middleware.CSPMiddleware")
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": CSP_POLICY}

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

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
                "project.context_processors.demo",
            ],
        },
    },
]

# SQLite by default, in IMMEDIATE transaction mode so that concurrent first requests of a
# new user wait for each other instead of failing with "database is locked".
# Connections are kept between requests (CONN_MAX_AGE seconds, checked before reuse): a
# gunicorn thread, or a thread of project/asgi.py's handler, reuses its connection.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 30}
    )
    # Tests use a file, not :memory:, so that threads and processes share it.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("SQLITE_TEST_NAME", str(BASE_DIR / "test-db.sqlite3"))
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "project" / "static"]

# Browsers sign in with Django's session (and send the CSRF token); a mobile app signs in
# once at /api/token/ and sends `Authorization: Token <key>`, which needs no CSRF token.
# Token first: the first class decides the answer to a request without valid credentials,
# 401 with `WWW-Authenticate: Token`, which tells an app to sign in again (browsers show
# no dialog for that scheme).
REST_FRAMEWORK: dict[str, object] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Sign-in attempts at /api/token/, per client address (project.views.TokenView).
    "DEFAULT_THROTTLE_RATES": {"sign_in": "10/min"},
}
if SCHEMA:
    REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "drf_spectacular.openapi.AutoSchema"
    SPECTACULAR_SETTINGS = {
        "TITLE": "django-customer-sessions demo",
        "VERSION": "1",
        "SERVE_INCLUDE_SCHEMA": False,
    }

# Several server processes must share one cache, or each counts throttles on its own.
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }

CUSTOMER_SESSIONS = {
    "SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY") or None,
    "PUBLISHABLE_KEY": os.environ.get("STRIPE_PUBLISHABLE_KEY") or None,
    "API_BASE": os.environ.get("STRIPE_API_BASE") or None,
    # The signing secret of the webhook endpoint (/api/webhook/), e.g. from `stripe listen`.
    "WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET") or None,
    # The most sessions the whole site asks Stripe for, e.g. "10/s" (docs/settings.md);
    # counted in the cache above, so shared by every process only with REDIS_URL.
    "SITE_SESSION_RATE": os.environ.get("SITE_SESSION_RATE") or None,
    # "account" makes each user a customer-configured Account (Accounts v2) instead of a
    # Customer: docs/customer-accounts.md.
    "CUSTOMER_OBJECT": os.environ.get("CUSTOMER_SESSIONS_CUSTOMER_OBJECT") or "customer",
}

# While Stripe is simulated (STRIPE_API_BASE set), the pages load a labelled stand-in for
# Stripe.js from the demo itself (project/static/demo/stripe-stand-in.js), which shows what
# each page hands to Stripe.js, with no network; 0 keeps Stripe's own Stripe.js.
STRIPE_JS_STAND_IN = env_bool("STRIPE_JS_STAND_IN", True)

# The demo's Stripe Pricing Table and Buy Button (from the Stripe dashboard).
STRIPE_PRICING_TABLE_ID = os.environ.get("STRIPE_PRICING_TABLE_ID", "")
STRIPE_BUY_BUTTON_ID = os.environ.get("STRIPE_BUY_BUTTON_ID", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "customer_sessions": {"level": os.environ.get("CUSTOMER_SESSIONS_LOG_LEVEL", "INFO")},
    },
}

# E-mail (error reports to ADMINS): Django 6.1 configures its mailers with MAILERS and
# warns, where a site sends e-mail without it, that Django 2028 will have no default.
# The SMTP backend is what Django used by default (tests get the memory one).
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend"}}
