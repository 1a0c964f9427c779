"""The dj-stripe side of ``make bench``, run from ``.venv-bench-djstripe/`` only.

The demo's middleware and session authentication, dj-stripe instead of this app, the same
Stripe double (``STRIPE_API_BASE``) and SQLite.
"""

from __future__ import annotations

import os

import stripe

from project.settings import CSP_POLICY

DEBUG = False
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "bench-only-insecure-secret-key")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.djstripe_urls"
WSGI_APPLICATION = "project.wsgi.application"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "djstripe",
    "bench.apps.BenchConfig",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The demo's Content-Security-Policy, as the app's side sends it on Django 5.2.
    "csp.middleware.CSPMiddleware",
]
CONTENT_SECURITY_POLICY = {"DIRECTIVES": CSP_POLICY}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BENCH_DB", "djstripe.sqlite3"),
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30},
        # Connections kept as on the app's side (bench/settings.py).
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

STRIPE_LIVE_MODE = False
STRIPE_TEST_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_USE_NATIVE_JSONFIELD = True
# dj-stripe calls Stripe through stripe-python's module-level API: point it at the double.
if os.environ.get("STRIPE_API_BASE"):
    stripe.api_base = os.environ["STRIPE_API_BASE"]
