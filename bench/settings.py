"""The demo's settings, as a production site would run them, plus the benchmark's views.

Environment: ``BENCH_DB`` (the SQLite file ``python -m bench.run`` prepares),
``STRIPE_API_BASE``/``STRIPE_SECRET_KEY`` (the Stripe double), ``BENCH_CUSTOMER`` (the fixed
customer of the bare view).
"""

from __future__ import annotations

import os

from project.settings import *  # noqa: F403
from project.settings import BASE_DIR, CUSTOMER_SESSIONS, INSTALLED_APPS, TEMPLATES

DEBUG = False
ROOT_URLCONF = "bench.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "bench.apps.BenchConfig"]
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BENCH_DB", str(BASE_DIR / "bench" / ".data" / "bench.sqlite3")),
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30},
        # As the demo keeps them (project/settings.py): one connection per server thread.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
}

# The throttle is evaluated on every request, as on a real site, at a rate the load
# generator's users never reach.
CUSTOMER_SESSIONS = {**CUSTOMER_SESSIONS, "THROTTLE_RATE": "100000/min"}
