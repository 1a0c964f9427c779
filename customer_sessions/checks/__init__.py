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

One module per area: keys, wiring (middleware, DRF, templates, database), limits (rates,
windows and the caches counting them), presets. Importing this package registers them all.
"""

from __future__ import annotations

from .keys import (
    check_keys,
    check_live_key_api_base,
    check_live_key_with_debug,
    check_restricted_key,
    check_secret_key,
    check_secret_key_deploy,
    check_stripe_console_log,
)
from .limits import (
    check_rates,
    check_site_budget_cache,
    check_throttle_cache,
    check_webhook_tolerance,
)
from .presets import (
    check_component_presets,
)
from .wiring import (
    check_customer_object_switch,
    check_middleware,
    check_request_context_processor,
    check_rest_framework,
    check_sqlite_transaction_mode,
    check_unknown_settings,
)

__all__ = [
    "check_component_presets",
    "check_customer_object_switch",
    "check_keys",
    "check_live_key_api_base",
    "check_live_key_with_debug",
    "check_middleware",
    "check_rates",
    "check_request_context_processor",
    "check_rest_framework",
    "check_restricted_key",
    "check_secret_key",
    "check_secret_key_deploy",
    "check_site_budget_cache",
    "check_sqlite_transaction_mode",
    "check_stripe_console_log",
    "check_throttle_cache",
    "check_unknown_settings",
    "check_webhook_tolerance",
]
