"""System checks (``manage.py check``), ids ``customer_sessions.E…``/``W…``/``I…``.

- W001 no secret key (E001 under ``check --deploy``); E002 the secret key is not an
  ``sk_``/``rk_`` key; E006 the publishable key is not a ``pk_`` key; E003 the two keys
  are of different modes.
- W002 SQLite without ``transaction_mode: "IMMEDIATE"``.
- W003 a live key with ``DEBUG = True``.
- E007/W004 stripe-python told to print debug/info output to the console.
- I001 (deploy) a restricted key: the permissions it needs, as they cannot be read offline.
- E004 ``CustomerSessionMiddleware`` missing; E008 ``GZipMiddleware`` after it. (E005,
  its place relative to the page cache, is retired: any place works.)
- W005 ``rest_framework`` not in ``INSTALLED_APPS``.
- W006 (deploy) the endpoint's throttle counting in a process-local cache.
- W007 no ``request`` context processor (the template tag needs it).
- W008 a key of ``CUSTOMER_SESSIONS`` the app does not know.
- E009 ``WEBHOOK_TOLERANCE`` is not a positive number of seconds.
- W009 (deploy) a live key sent to an ``API_BASE`` that is not Stripe's API.
- E010 ``THROTTLE_RATE`` or ``SITE_SESSION_RATE`` is not a rate; W010 (deploy) the site's
  budget counted in a process-local cache.
- E011 a component preset with a component, feature or value Stripe does not accept.
- W011 (database) users mapped to the other kind of object than ``CUSTOMER_OBJECT``: how
  many, and that they keep it.
"""

from __future__ import annotations

import difflib
import os
import re
from typing import Any
from urllib.parse import urlsplit

import stripe
from django.apps import apps
from django.conf import settings
from django.core import checks
from django.db import DatabaseError

from .conf import DEFAULTS, SETTING_NAME, get_settings


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


_KEY_RE = re.compile(r"^(sk|rk|pk)_(test|live)_")
_KINDS = {"sk": "secret", "rk": "restricted", "pk": "publishable"}


def _key_kind_mode(key: Any) -> tuple[str, str] | None:
    """``("sk" | "rk" | "pk", "test" | "live")`` read from a key's prefix, or None."""
    match = _KEY_RE.match(key) if isinstance(key, str) else None
    return (match.group(1), match.group(2)) if match else None


@checks.register(checks.Tags.security)
def check_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Keys of the wrong kind, or a publishable key of the other mode than the secret key."""
    conf = get_settings()
    errors: list[checks.CheckMessage] = []
    secret = _key_kind_mode(conf.SECRET_KEY) if conf.SECRET_KEY else None
    if conf.SECRET_KEY and (secret is None or secret[0] == "pk"):
        errors.append(
            checks.Error(
                f"{SETTING_NAME}['SECRET_KEY'] is not a Stripe secret or restricted key.",
                hint="Use the key that starts with sk_test_/sk_live_ (or rk_test_/rk_live_) "
                "from https://dashboard.stripe.com/apikeys.",
                id="customer_sessions.E002",
            )
        )
        secret = None
    public = _key_kind_mode(conf.PUBLISHABLE_KEY) if conf.PUBLISHABLE_KEY else None
    if conf.PUBLISHABLE_KEY and (public is None or public[0] != "pk"):
        errors.append(
            checks.Error(
                f"{SETTING_NAME}['PUBLISHABLE_KEY'] is not a Stripe publishable key.",
                hint="It is sent to every browser: use the key that starts with pk_test_ or "
                "pk_live_, never a secret or restricted key.",
                id="customer_sessions.E006",
            )
        )
        public = None
    if secret and public and secret[1] != public[1]:
        errors.append(
            checks.Error(
                f"{SETTING_NAME}['PUBLISHABLE_KEY'] is a {public[1]} mode key but "
                f"{SETTING_NAME}['SECRET_KEY'] is a {secret[1]} mode key.",
                hint="Stripe.js cannot use a Customer Session made in the other mode: take "
                "both keys from the same mode of the same Stripe account.",
                id="customer_sessions.E003",
            )
        )
    return errors


@checks.register(checks.Tags.security)
def check_live_key_with_debug(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    key = _key_kind_mode(get_settings().SECRET_KEY)
    if key is None or key[1] != "live" or not settings.DEBUG:
        return []
    return [
        checks.Warning(
            f"{SETTING_NAME}['SECRET_KEY'] is a live mode key while DEBUG is True.",
            hint="Real customers are created and a debug page can show request details; "
            "use a test mode key (sk_test_…) while developing.",
            id="customer_sessions.W003",
        )
    ]


@checks.register(checks.Tags.security)
def check_stripe_console_log(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """stripe-python prints to stderr, past every logging filter, when told to."""
    levels = {getattr(stripe, "log", None), os.environ.get("STRIPE_LOG")}
    if "debug" in levels:
        return [
            checks.Error(
                "stripe-python is told to print debug output to the console "
                "(stripe.log or the STRIPE_LOG environment variable is 'debug').",
                hint="It prints every response body, client secrets included, to stderr, "
                "where no logging filter can remove them. Unset it; use the 'stripe' "
                "logger if you need Stripe's request log.",
                id="customer_sessions.E007",
            )
        ]
    if "info" in levels:
        return [
            checks.Warning(
                "stripe-python is told to print request lines to the console "
                "(stripe.log or the STRIPE_LOG environment variable is 'info').",
                hint="Its output goes to stderr past every logging filter. Unset it; use "
                "the 'stripe' logger instead.",
                id="customer_sessions.W004",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_restricted_key(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A restricted key's permissions cannot be read from the key: say which it needs."""
    key = _key_kind_mode(get_settings().SECRET_KEY)
    if key is None or key[0] != "rk":
        return []
    return [
        checks.Info(
            f"{SETTING_NAME}['SECRET_KEY'] is a restricted key; its permissions cannot be "
            "checked without calling Stripe.",
            hint="It needs Write access to Customers and to Customer Sessions. A missing "
            "permission shows as 'stripe_misconfigured' errors (403 from Stripe).",
            id="customer_sessions.I001",
        )
    ]


#: Where a live key may go: Stripe's API, over HTTPS.
_STRIPE_API_HOST = "api.stripe.com"


@checks.register(checks.Tags.security, deploy=True)
def check_live_key_api_base(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``API_BASE`` is for a Stripe double; a live key sent there goes to that host."""
    conf = get_settings()
    key = _key_kind_mode(conf.SECRET_KEY)
    if key is None or key[1] != "live" or not conf.API_BASE:
        return []
    url = urlsplit(str(conf.API_BASE))
    try:
        port = url.port
    except ValueError:  # not a number: not Stripe's API either
        port = -1
    if url.scheme == "https" and url.hostname == _STRIPE_API_HOST and port in (None, 443):
        return []
    # Named without the user and password a URL may hold.
    where = f"{url.scheme}://{url.hostname}" if url.hostname else repr(conf.API_BASE)
    where += f":{port}" if url.hostname and port and port > 0 else ""
    return [
        checks.Warning(
            f"{SETTING_NAME}['SECRET_KEY'] is a live mode key but {SETTING_NAME}['API_BASE'] "
            f"sends it to {where}, not to Stripe's API.",
            hint="Every request would hand the live key to that server. API_BASE is for a "
            "Stripe double in tests and development: unset it in production, or use a test "
            "mode key with it.",
            id="customer_sessions.W009",
        )
    ]


@checks.register(checks.Tags.security)
def check_webhook_tolerance(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """0 or None would make stripe-python accept a signed event of any age."""
    from .webhooks import valid_tolerance

    tolerance = get_settings().WEBHOOK_TOLERANCE
    if valid_tolerance(tolerance):
        return []
    return [
        checks.Error(
            f"{SETTING_NAME}['WEBHOOK_TOLERANCE'] = {tolerance!r} is not a positive number "
            "of seconds.",
            hint="It bounds how old (or how far ahead) a signed event may be; 0 or None "
            "would accept a replayed event of any age, so the webhook refuses every event "
            "(500) until it is fixed. Leave it out for the default, 300.",
            id="customer_sessions.E009",
        )
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


_LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@checks.register(checks.Tags.caches, deploy=True)
def check_throttle_cache(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The endpoint's throttle counts in the default cache; per process, it barely limits."""
    from .api.throttles import CustomerSessionRateThrottle

    if CustomerSessionRateThrottle().get_rate() is None:
        return []
    caches = getattr(settings, "CACHES", None) or {}
    backend = (caches.get("default") or {}).get(
        "BACKEND", "django.core.cache.backends.locmem.LocMemCache"
    )
    if backend not in _LOCAL_CACHES:
        return []
    return [
        checks.Warning(
            f"The customer session throttle counts in the default cache, {backend}, which "
            "is not shared between processes.",
            hint="With several worker processes or servers each one counts on its own (and "
            "DummyCache counts nothing), so the per-user limit is not enforced. Use a shared "
            "cache (Redis, Memcached, database) as CACHES['default'].",
            id="customer_sessions.W006",
        )
    ]


def _default_cache_backend() -> str:
    caches = getattr(settings, "CACHES", None) or {}
    backend: str = (caches.get("default") or {}).get(
        "BACKEND", "django.core.cache.backends.locmem.LocMemCache"
    )
    return backend


@checks.register(checks.Tags.caches, deploy=True)
def check_site_budget_cache(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The site's budget must be counted where every process counts."""
    if get_settings().SITE_SESSION_RATE is None:
        return []
    backend = _default_cache_backend()
    if backend not in _LOCAL_CACHES:
        return []
    return [
        checks.Warning(
            f"{SETTING_NAME}['SITE_SESSION_RATE'] is counted in the default cache, {backend}, "
            "which is not shared between processes.",
            hint="Each worker process or server would allow the whole rate on its own (and "
            "DummyCache counts nothing), so the site asks Stripe for that many sessions per "
            "process. Use a shared cache (Redis, Memcached) as CACHES['default'].",
            id="customer_sessions.W010",
        )
    ]


@checks.register()
def check_rates(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A rate that is not one would fail every session; say so before the first."""
    from .throttling import Rate, configured_rate

    conf = get_settings()
    errors: list[checks.CheckMessage] = []
    for name, value in (
        ("THROTTLE_RATE", configured_rate()),
        ("SITE_SESSION_RATE", conf.SITE_SESSION_RATE),
    ):
        if value is None:
            continue
        try:
            rate = Rate.parse(value)
        except ValueError:
            rate = None
        if rate is None or rate.limit < 1:
            errors.append(
                checks.Error(
                    f"{SETTING_NAME}['{name}'] = {value!r} is not a rate.",
                    hint="Write it as Django REST framework writes rates, a number of sessions "
                    'per second, minute, hour or day: "10/s", "600/min", "1000/day"; None '
                    "turns it off.",
                    id="customer_sessions.E010",
                )
            )
    return errors


@checks.register()
def check_component_presets(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Each preset's components, features and values as stripe-python knows them."""
    from .components import preset_problems

    presets = get_settings().COMPONENT_PRESETS
    return [
        checks.Error(
            f"{SETTING_NAME}['COMPONENT_PRESETS']: {problem}.",
            hint="Stripe would refuse every session of this preset (400) at the first "
            "checkout. See the presets and features in docs/settings.md#component_presets.",
            id="customer_sessions.E011",
        )
        for name, components in presets.items()
        for problem in preset_problems(str(name), components)
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
    from .models import StripeCustomer

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
