"""System checks (``manage.py check``), ids ``customer_sessions.E…``/``W…``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from .conf import SETTING_NAME, get_settings


@checks.register(checks.Tags.security, deploy=True)
def check_secret_key_deploy(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """No secret key is an error when checking a deployment."""
    if get_settings().SECRET_KEY:
        return []
    return [
        checks.Error(
            f"{SETTING_NAME}['SECRET_KEY'] is not set.",
            hint="Set it to your Stripe secret key (sk_live_… in production).",
            id="customer_sessions.E001",
        )
    ]


@checks.register()
def check_secret_key(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """No secret key is only a warning in a plain check: builds without secrets must work."""
    if get_settings().SECRET_KEY:
        return []
    return [
        checks.Warning(
            f"{SETTING_NAME}['SECRET_KEY'] is not set; customer sessions will fail.",
            hint="Set it to your Stripe secret key (sk_test_… while developing).",
            id="customer_sessions.W001",
        )
    ]


def _uses_sqlite_without_immediate() -> list[str]:
    aliases = []
    for alias, db in settings.DATABASES.items():
        if db.get("ENGINE") == "django.db.backends.sqlite3":
            if (db.get("OPTIONS") or {}).get("transaction_mode") != "IMMEDIATE":
                aliases.append(alias)
    return aliases


@checks.register(checks.Tags.database)
def check_sqlite_transaction_mode(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    return [
        checks.Warning(
            f"Database {alias!r} is SQLite without OPTIONS['transaction_mode'] = 'IMMEDIATE'.",
            hint=(
                "Concurrent first requests of a new user can then fail with 'database is "
                "locked'. Set DATABASES[…]['OPTIONS'] = {'transaction_mode': 'IMMEDIATE'}."
            ),
            id="customer_sessions.W002",
        )
        for alias in _uses_sqlite_without_immediate()
    ]
