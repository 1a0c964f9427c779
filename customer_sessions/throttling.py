"""Each user's allowance of new Customer Sessions, spent alike by the endpoint, the tag and
the Python API, so that no way of asking makes more Stripe writes than the rate allows.

The rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["customer_session"]`` when the site
sets it, else ``CUSTOMER_SESSIONS["THROTTLE_RATE"]`` (``None``: no limit), written as
Django REST framework writes rates (``"60/min"``, ``"10/s"``, ``"1000/day"``). Counts live
in Django's default cache under the key Django REST framework's ``UserRateThrottle`` would
use for the user: share one cache between processes (Redis, Memcached) or each process
counts on its own.

The count is one atomic counter per user (``incr``: one cache operation per session while
the user's window is open) in a window that starts with the user's first session
(``add``). DRF's own throttles read a list of timestamps and write it back, so parallel
requests overwrite each other's entries and a burst gets through uncounted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from .conf import get_settings
from .exceptions import SessionThrottled

#: The throttle scope, as Django REST framework names it.
SCOPE = "customer_session"
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class Rate:
    """``limit`` sessions per ``duration`` seconds."""

    limit: int
    duration: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"60/min"`` → ``Rate(60, 60)``, read as Django REST framework reads rates."""
        number, _, period = str(text).partition("/")
        try:
            return cls(int(number), _PERIODS[period.strip()[:1]])
        except (KeyError, ValueError):
            raise ValueError(
                f"{text!r} is not a rate: write it as Django REST framework does, "
                'e.g. "60/min" or "10/s".'
            ) from None


def configured_rate() -> str | None:
    """The rate text in force: the DRF scope's if the site sets one, else ``THROTTLE_RATE``."""
    from rest_framework.settings import api_settings

    rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES or {}
    if SCOPE in rates:
        return rates[SCOPE]
    return get_settings().THROTTLE_RATE


def cache_key(ident: Any) -> str:
    """The counter of one user: the key DRF's ``UserRateThrottle`` uses for them."""
    return f"throttle_{SCOPE}_{ident}"


def spend(key: str, rate: Rate, now: float | None = None) -> float | None:
    """Count one session against ``key``: ``None`` if allowed, else seconds to wait."""
    now = time.time() if now is None else now
    count_key = f"{key}_count"
    try:
        count = cache.incr(count_key)
    except ValueError:  # no open window: open one (a no-op for the racer that lost)
        cache.add(f"{key}_start", now, rate.duration)
        cache.add(count_key, 0, rate.duration)
        try:
            count = cache.incr(count_key)
        except ValueError:  # the window expired between add and incr: open the next
            cache.add(count_key, 0, rate.duration)
            count = cache.incr(count_key)
    if count <= rate.limit:
        return None
    started = float(cache.get(f"{key}_start", now))
    return _wait(started, rate, now)


async def aspend(key: str, rate: Rate, now: float | None = None) -> float | None:
    """:func:`spend` with the cache's async methods."""
    now = time.time() if now is None else now
    count_key = f"{key}_count"
    try:
        count = await cache.aincr(count_key)
    except ValueError:
        await cache.aadd(f"{key}_start", now, rate.duration)
        await cache.aadd(count_key, 0, rate.duration)
        try:
            count = await cache.aincr(count_key)
        except ValueError:
            await cache.aadd(count_key, 0, rate.duration)
            count = await cache.aincr(count_key)
    if count <= rate.limit:
        return None
    started = float(await cache.aget(f"{key}_start", now))
    return _wait(started, rate, now)


def _wait(started: float, rate: Rate, now: float) -> float:
    return max(1.0, started + rate.duration - now)


def _refused(wait: float) -> SessionThrottled:
    return SessionThrottled(retry_after=max(1, int(wait + 0.999)))


def spend_for_user(user: Any) -> None:
    """Spend one of ``user``'s sessions; :class:`SessionThrottled` when none is left."""
    text = configured_rate()
    if text is None:
        return
    wait = spend(cache_key(user.pk), Rate.parse(text))
    if wait is not None:
        raise _refused(wait)


async def aspend_for_user(user: Any) -> None:
    """:func:`spend_for_user` for async code."""
    text = configured_rate()
    if text is None:
        return
    wait = await aspend(cache_key(user.pk), Rate.parse(text))
    if wait is not None:
        raise _refused(wait)
