"""The test suite's own settings: a site with the app installed, as a newcomer would set it up.

Not the demo's (project/settings.py): the demo is a site of its own, tested as one (its
pages in tests/browser/, under gunicorn in the multi-process tests). The database is a
SQLite file (threads and processes share it) unless ``DATABASE_URL`` says otherwise.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import dj_database_url

HERE = Path(__file__).resolve().parent
# As in a project made by startproject (the docs' settings snippets use it).
BASE_DIR = HERE.parent

SECRET_KEY = "tests-only-insecure-secret-key"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # The demo's token sign-in (project/urls.py), and docs/mobile.md's example.
    "rest_framework.authtoken",
    "customer_sessions",
]
# The endpoint's OpenAPI schema (tests/reliability/test_fuzz.py fuzzes it).
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
    "customer_sessions.middleware.CustomerSessionMiddleware",
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [HERE / "templates"],
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

DATABASES = {"default": dj_database_url.config(default=f"sqlite:///{BASE_DIR / 'test-db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 30}
    )
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("SQLITE_TEST_NAME", str(BASE_DIR / "test-db.sqlite3"))
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Fast hashing: the tests sign in thousands of times.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"

USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"

REST_FRAMEWORK: dict[str, object] = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
if SCHEMA:
    REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "drf_spectacular.openapi.AutoSchema"

# The fake_stripe fixture points the app at the Stripe double for each test.
CUSTOMER_SESSIONS: dict[str, object] = {}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {"customer_sessions": {"level": "INFO"}},
}
