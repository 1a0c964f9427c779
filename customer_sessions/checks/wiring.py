"""Checks of how the site wires the app: middleware, DRF, the request context processor,
SQLite's transaction mode, unknown settings, the kind of object users are mapped to
(E004, E008, W002, W005, W007, W008, W011)."""

from __future__ import annotations

import difflib
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.db import DatabaseError

from ..conf import DEFAULTS, SETTING_NAME, get_settings


def _uses_sqlite_without_immediate() -> list[str]:
    aliases = []
    for alias, db in settings.DATABASES.items():
        if db.get("ENGINE") == "django.db.backends.sqlite3":
            if (db.get("OPTIONS") or {}).get("transaction_mode") != "IMMEDIATE":
                aliases.append(alias)
    return aliases


# Not tagged "database": Django 6.1 and later run such checks only for `check --database`,
# and this one reads the settings only, so a plain `manage.py check` must report it.
@checks.register()
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


_OURS = "customer_sessions.middleware.CustomerSessionMiddleware"
_GZIP = "django.middleware.gzip.GZipMiddleware"


@checks.register(checks.Tags.caches, checks.Tags.security)
def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``CustomerSessionMiddleware`` is installed, and nothing compresses pages inside it."""
    middleware = list(settings.MIDDLEWARE or [])
    if _OURS not in middleware:
        return [
            checks.Error(
                f"{_OURS} is not in MIDDLEWARE.",
                hint="It keeps every response that carries a client secret out of Django's "
                "cache and shared caches (Cache-Control: no-store, private), and writes the "
                "secrets of {% customer_session %} into the page only once it is rendered, so "
                "no traceback holds one. Add it to MIDDLEWARE.",
                id="customer_sessions.E004",
            )
        ]
    if _GZIP in middleware and middleware.index(_GZIP) > middleware.index(_OURS):
        return [
            checks.Error(
                f"{_GZIP} comes after {_OURS} in MIDDLEWARE.",
                hint="It would compress a page before the middleware writes the page's "
                "secrets into it, and those pages would have none. Put GZipMiddleware "
                "before it (Django's docs put it near the top).",
                id="customer_sessions.E008",
            )
        ]
    return []


@checks.register()
def check_rest_framework(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if apps.is_installed("rest_framework"):
        return []
    return [
        checks.Warning(
            "'rest_framework' is not in INSTALLED_APPS.",
            hint="The customer session endpoint is a Django REST framework view; add "
            "'rest_framework' to INSTALLED_APPS.",
            id="customer_sessions.W005",
        )
    ]


_REQUEST_PROCESSOR = "django.template.context_processors.request"


@checks.register(checks.Tags.templates)
def check_request_context_processor(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """``{% customer_session %}`` reads the user from ``request`` in the template context."""
    engines: list[Any] = list(settings.TEMPLATES)
    for engine in engines:
        if engine.get("BACKEND") != "django.template.backends.django.DjangoTemplates":
            continue
        processors = (engine.get("OPTIONS") or {}).get("context_processors") or []
        if _REQUEST_PROCESSOR in processors:
            return []
    return [
        checks.Warning(
            f"'{_REQUEST_PROCESSOR}' is not in the context processors of a DjangoTemplates engine.",
            hint="{% customer_session %} needs the request in the template context; add it "
            "to TEMPLATES[…]['OPTIONS']['context_processors'].",
            id="customer_sessions.W007",
        )
    ]


@checks.register()
def check_unknown_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A misspelt key in ``CUSTOMER_SESSIONS`` would otherwise be ignored without a word."""
    messages: list[checks.CheckMessage] = []
    for name in get_settings().extra:
        close = difflib.get_close_matches(str(name), DEFAULTS, n=1)
        hint = f"Did you mean {close[0]!r}?" if close else "See the settings reference."
        messages.append(
            checks.Warning(
                f"{SETTING_NAME}[{name!r}] is not a setting of the app and is ignored.",
                hint=f"{hint} Known keys: {', '.join(DEFAULTS)}.",
                id="customer_sessions.W008",
            )
        )
    return messages


@checks.register(checks.Tags.database)
def check_customer_object_switch(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Users mapped to the other kind than ``CUSTOMER_OBJECT`` keep it: say how many.

    A database check (``manage.py check --database default``, and ``migrate``): it counts
    rows. Never a silent mass re-creation: each such user goes on with their Customer (or
    Account) and its saved payment methods until it is replaced or their mapping deleted.
    """
    from ..models import StripeCustomer

    if not databases:
        return []
    wanted = get_settings().CUSTOMER_OBJECT
    messages: list[checks.CheckMessage] = []
    for alias in databases:
        try:
            other = (
                StripeCustomer.objects.using(alias)
                .exclude(customer_object=wanted)
                .exclude(customer_id="")
                .values("user_id")
                .distinct()
                .count()
            )
        except DatabaseError:  # not migrated yet: nothing is mapped
            continue
        if not other:
            continue
        had = "Customers (cus_…)" if wanted == "account" else "customer-configured Accounts"
        gets = "customer-configured Account" if wanted == "account" else "Customer"
        messages.append(
            checks.Warning(
                f"{other} user(s) in database {alias!r} are mapped to {had}, though "
                f"{SETTING_NAME}['CUSTOMER_OBJECT'] is {wanted!r}; they keep them (and their "
                "saved payment methods). Only users without one get a new "
                f"{gets}, and a user whose object is replaced (deleted or closed in Stripe).",
                hint=(
                    "To move a user, delete their mapping (admin: Stripe customers); their next "
                    "session makes one of the configured kind. Silence this warning with "
                    "SILENCED_SYSTEM_CHECKS once the mix is what you want."
                ),
                id="customer_sessions.W011",
            )
        )
    return messages
