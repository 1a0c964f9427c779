"""Checks of the app's rates and windows and the caches that count them (E009, E010, W006,
W010)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from ..conf import SETTING_NAME, get_settings


@checks.register(checks.Tags.security)
def check_webhook_tolerance(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """0 or None would make stripe-python accept a signed event of any age."""
    from ..webhooks import valid_tolerance

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


_LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@checks.register(checks.Tags.caches, deploy=True)
def check_throttle_cache(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The endpoint's throttle counts in the default cache; per process, it barely limits."""
    from ..api.throttles import CustomerSessionRateThrottle

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
    from ..throttling import Rate, configured_rate

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
