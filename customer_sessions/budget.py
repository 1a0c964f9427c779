"""The site's budget of Customer Sessions, counted across every process and server.

Stripe's rate limit is per account and shared by every request a site makes (100 writes
per second in live mode, 25 in test mode), and a Customer Session is a write on every
checkout render. ``CUSTOMER_SESSIONS["SITE_SESSION_RATE"]`` (``"10/s"``, ``"600/min"``)
caps how many the whole site asks Stripe for, so that a flood of sessions never takes the
writes its payments need. Past it the session is refused at once with
:class:`~customer_sessions.exceptions.SiteRateLimited` (503, ``Retry-After``): nothing is
queued, nothing is sent.

The count is one counter per window of the rate's period (one second for ``"/s"``) in
Django's default cache, which must be shared by every process (Redis, Memcached; check
W010 warns of a per-process cache): ``incr`` on the window's key, one cache operation per
session while the window is open.
"""

from __future__ import annotations

import math
import time

from django.core.cache import cache

from .conf import get_settings
from .exceptions import SiteRateLimited
from .throttling import Rate

_KEY = "customer_sessions_site_{window}"


def _window(rate: Rate, now: float) -> tuple[str, float]:
    """The counter's key for the window ``now`` falls in, and seconds until it ends."""
    index = math.floor(now / rate.duration)
    return _KEY.format(window=index), (index + 1) * rate.duration - now


def _refused(left: float) -> SiteRateLimited:
    return SiteRateLimited(retry_after=max(1, math.ceil(left)))


def spend_site_budget(now: float | None = None) -> None:
    """Count one session against ``SITE_SESSION_RATE``; :class:`SiteRateLimited` past it."""
    text = get_settings().SITE_SESSION_RATE
    if text is None:
        return
    rate = Rate.parse(text)
    key, left = _window(rate, time.time() if now is None else now)
    try:
        count = cache.incr(key)
    except ValueError:  # the window's first session (a no-op for the racer that lost)
        cache.add(key, 0, rate.duration + 1)
        count = cache.incr(key)
    if count > rate.limit:
        raise _refused(left)


async def aspend_site_budget(now: float | None = None) -> None:
    """:func:`spend_site_budget` with the cache's async methods."""
    text = get_settings().SITE_SESSION_RATE
    if text is None:
        return
    rate = Rate.parse(text)
    key, left = _window(rate, time.time() if now is None else now)
    try:
        count = await cache.aincr(key)
    except ValueError:
        await cache.aadd(key, 0, rate.duration + 1)
        count = await cache.aincr(key)
    if count > rate.limit:
        raise _refused(left)
