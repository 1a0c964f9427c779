"""The app's settings: one ``CUSTOMER_SESSIONS`` dict merged over documented defaults.

Read settings through :func:`get_settings` at call time, never at import time: the merged
value is cached and the cache is cleared whenever ``settings.CUSTOMER_SESSIONS`` changes
(``override_settings`` in tests included).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

SETTING_NAME = "CUSTOMER_SESSIONS"

#: Components of a Payment Element session that shows, saves and removes saved cards.
PAYMENT_ELEMENT: dict[str, Any] = {
    "payment_element": {
        "enabled": True,
        "features": {
            "payment_method_redisplay": "enabled",
            "payment_method_save": "enabled",
            "payment_method_save_usage": "off_session",
            "payment_method_remove": "enabled",
        },
    }
}

#: Stripe's CustomerSheet (iOS, Android, React Native): the customer's saved payment
#: methods, to choose, add and remove.
CUSTOMER_SHEET: dict[str, Any] = {
    "customer_sheet": {"enabled": True, "features": {"payment_method_remove": "enabled"}}
}

#: Stripe's mobile Payment Element (PaymentSheet): saved methods shown, saved and removed.
MOBILE_PAYMENT_ELEMENT: dict[str, Any] = {
    "mobile_payment_element": {
        "enabled": True,
        "features": {
            "payment_method_redisplay": "enabled",
            "payment_method_save": "enabled",
            "payment_method_remove": "enabled",
        },
    }
}

#: The values of ``CUSTOMER_OBJECT`` (``models.CustomerObject``'s).
CUSTOMER_OBJECTS = ("customer", "account")

DEFAULTS: dict[str, Any] = {
    # Stripe secret (or restricted) API key: sk_test_…, sk_live_…, rk_test_…, rk_live_….
    "SECRET_KEY": None,
    # Publishable key for Stripe.js: pk_test_… or pk_live_…, of the same mode as SECRET_KEY.
    "PUBLISHABLE_KEY": None,
    # Base URL of Stripe's API; None means Stripe itself. Point it at a test double in tests.
    "API_BASE": None,
    # Stripe API version; None means the version the installed stripe-python is pinned to.
    "API_VERSION": None,
    # Retries on connection errors, 409 and 5xx (with the same idempotency key).
    "MAX_NETWORK_RETRIES": 2,
    # Seconds for one HTTP request to Stripe (connect + read).
    "TIMEOUT": 10.0,
    # The preset used when a caller names none.
    "DEFAULT_COMPONENTS": "payment_element",
    # Named component sets a caller may ask for (the endpoint's "components" field).
    "COMPONENT_PRESETS": {
        "payment_element": PAYMENT_ELEMENT,
        "pricing_table": {"pricing_table": {"enabled": True}},
        "buy_button": {"buy_button": {"enabled": True}},
        "customer_sheet": CUSTOMER_SHEET,
        "mobile_payment_element": MOBILE_PAYMENT_ELEMENT,
    },
    # Dotted path (or callable) taking a user and returning the params of a new Stripe customer.
    "CUSTOMER_PARAMS": "customer_sessions.defaults.customer_params",
    # What a user's first session makes them in Stripe: "customer" (a v1 Customer, cus_…)
    # or "account" (an Accounts v2 Account with a customer configuration, acct_…; API
    # version 2025-12-15.clover or later). Users mapped already keep what they have.
    "CUSTOMER_OBJECT": "customer",
    # Dotted path (or callable) taking a user and returning the JSON body of a new
    # customer-configured Account (POST /v2/core/accounts), used with CUSTOMER_OBJECT "account".
    "ACCOUNT_PARAMS": "customer_sessions.defaults.account_params",
    # Dotted path (or callable) taking a request and returning the connected account id
    # ("acct_…") whose customers to use, or "" for the platform account.
    "ACCOUNT": None,
    # DRF throttle rate of the session endpoint, per user; None turns throttling off.
    "THROTTLE_RATE": "60/min",
    # The most Customer Sessions the whole site asks Stripe for ("10/s", "600/min"),
    # counted across every process in the default cache (which must be shared); past it a
    # session is refused with 503 site_rate_limited. None: no site-wide budget.
    "SITE_SESSION_RATE": None,
    # At most this many mapped customers per (mode, account) are replaced within
    # REPLACEMENT_WINDOW seconds when Stripe reports them missing; past that the app
    # stops replacing and raises TooManyReplacements (the keys probably changed account).
    "REPLACEMENT_LIMIT": 10,
    "REPLACEMENT_WINDOW": 3600,
    # Signing secret(s) of the site's Stripe webhook endpoint ("whsec_…"), a string or a
    # list of strings (while rolling a secret). Without one the webhook view answers 500
    # (and Stripe retries the events later).
    "WEBHOOK_SECRET": None,
    # Seconds an event's signature timestamp may be away from now before it is refused.
    "WEBHOOK_TOLERANCE": 300,
    # When a Django user is deleted, also delete their Stripe customers (every connected
    # account, in the configured key's mode), once the deletion has committed: a site's
    # "right to be forgotten". Off, the customers stay in Stripe and the audit keeps their ids.
    "DELETE_CUSTOMERS_WITH_USER": False,
    # Requests per second that `manage.py customer_sessions_backfill` and
    # `customer_sessions_verify` send to Stripe (live mode allows about 100 in total).
    "BACKFILL_RATE": 20.0,
}


@dataclass(frozen=True)
class AppSettings:
    """The merged settings, read once per change of ``settings.CUSTOMER_SESSIONS``."""

    SECRET_KEY: str | None = field(repr=False)
    PUBLISHABLE_KEY: str | None
    API_BASE: str | None
    API_VERSION: str | None
    MAX_NETWORK_RETRIES: int
    TIMEOUT: float
    DEFAULT_COMPONENTS: str
    COMPONENT_PRESETS: Mapping[str, Mapping[str, Any]]
    CUSTOMER_PARAMS: Callable[..., dict[str, Any]] | str
    CUSTOMER_OBJECT: str
    ACCOUNT_PARAMS: Callable[..., dict[str, Any]] | str
    ACCOUNT: Callable[..., str] | str | None
    THROTTLE_RATE: str | None
    SITE_SESSION_RATE: str | None
    REPLACEMENT_LIMIT: int
    REPLACEMENT_WINDOW: int
    WEBHOOK_SECRET: str | list[str] | None = field(repr=False)
    WEBHOOK_TOLERANCE: int
    DELETE_CUSTOMERS_WITH_USER: bool
    BACKFILL_RATE: float
    extra: Mapping[str, Any] = field(default_factory=dict)

    def require_secret_key(self) -> str:
        if not self.SECRET_KEY:
            from .exceptions import StripeMisconfigured

            raise StripeMisconfigured(
                f"Set {SETTING_NAME}['SECRET_KEY'] to your Stripe secret key "
                "(sk_test_… or sk_live_…) to create Customer Sessions."
            )
        return self.SECRET_KEY

    def components(self, preset: str | None = None) -> dict[str, Any]:
        """The components dict of ``preset`` (the default preset when ``None``)."""
        name = self.DEFAULT_COMPONENTS if preset is None else preset
        try:
            return dict(self.COMPONENT_PRESETS[name])
        except KeyError:
            raise KeyError(name) from None

    def customer_params_func(self) -> Callable[..., dict[str, Any]]:
        return _callable(self.CUSTOMER_PARAMS, "CUSTOMER_PARAMS")

    def account_params_func(self) -> Callable[..., dict[str, Any]]:
        return _callable(self.ACCOUNT_PARAMS, "ACCOUNT_PARAMS")

    def account_func(self) -> Callable[..., str] | None:
        if self.ACCOUNT is None:
            return None
        return _callable(self.ACCOUNT, "ACCOUNT")


def _callable(value: Any, name: str) -> Callable[..., Any]:
    if callable(value):
        return value
    if isinstance(value, str):
        try:
            return import_string(value)
        except ImportError as exc:
            raise ImproperlyConfigured(
                f"{SETTING_NAME}['{name}'] = {value!r} cannot be imported: {exc}"
            ) from exc
    raise ImproperlyConfigured(
        f"{SETTING_NAME}['{name}'] must be a callable or a dotted path to one, not {value!r}."
    )


@functools.cache
def get_settings() -> AppSettings:
    """The app's settings: ``settings.CUSTOMER_SESSIONS`` merged over :data:`DEFAULTS`."""
    user = getattr(django_settings, SETTING_NAME, None) or {}
    if not isinstance(user, Mapping):
        raise ImproperlyConfigured(f"settings.{SETTING_NAME} must be a dict.")
    known = {k: user[k] for k in user if k in DEFAULTS}
    extra = {k: user[k] for k in user if k not in DEFAULTS}
    merged = {**DEFAULTS, **known}
    presets = merged["COMPONENT_PRESETS"]
    if not isinstance(presets, Mapping) or not presets:
        raise ImproperlyConfigured(
            f"{SETTING_NAME}['COMPONENT_PRESETS'] must be a non-empty dict of name → components."
        )
    if merged["DEFAULT_COMPONENTS"] not in presets:
        raise ImproperlyConfigured(
            f"{SETTING_NAME}['DEFAULT_COMPONENTS'] = {merged['DEFAULT_COMPONENTS']!r} "
            f"is not one of COMPONENT_PRESETS: {', '.join(sorted(presets))}."
        )
    if merged["CUSTOMER_OBJECT"] not in CUSTOMER_OBJECTS:
        raise ImproperlyConfigured(
            f"{SETTING_NAME}['CUSTOMER_OBJECT'] = {merged['CUSTOMER_OBJECT']!r} is not one of "
            f"{', '.join(repr(o) for o in CUSTOMER_OBJECTS)}."
        )
    merged["MAX_NETWORK_RETRIES"] = int(merged["MAX_NETWORK_RETRIES"])
    merged["TIMEOUT"] = float(merged["TIMEOUT"])
    return AppSettings(**merged, extra=extra)


@receiver(setting_changed)
def _reload_settings(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING_NAME:
        get_settings.cache_clear()
