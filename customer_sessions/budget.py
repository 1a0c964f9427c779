"""The site's budget of Customer Sessions, counted across every process and server.

Stripe's rate limit is per account and shared by every request a site makes (100 writes
per second in live mode, 25 in test mode), and a Customer Session is a write on every
checkout render. ``CUSTOMER_SESSIONS["SITE_SESSION_RATE"]`` (``"10/s"``, ``"600/min"``)
caps how many the whole site asks Stripe for, so that a flood of sessions never takes the
writes its payments need. Past it the session is refused at once with
:class:`~customer_sessions.exceptions.SiteRateLimited` (503, ``Retry-After``): nothing is
queued, nothing is sent.

The count is a sliding window: one counter per period (one second for ``"/s"``) in
Django's default cache, which must be shared by every process (Redis, Memcached; check
W010 warns of a per-process cache), and a session is allowed while the current period's
count plus the share of the previous period's count still inside the last period stays
within the rate. Fixed windows alone let a flood send a whole period's sessions at the
end of one period and again at the start of the next, twice the rate within one second
of Stripe's limit; measured with tests/reliability/test_site_budget.py, that refused a
payment in every run. A session reads both counters (one ``get_many``) and is refused
there if over, so a flood's refusals cost one cache operation and spend nothing; else it
counts itself (``incr``), and takes it back (``decr``) if a racer got there first.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.core.cache import cache

from .conf import get_settings
from .exceptions import SiteRateLimited
from .throttling import Rate

_KEY = "customer_sessions_site_{period}"


@dataclass(frozen=True)
class _Window:
    """Where ``now`` falls: this period's and the last period's counters, and how far in."""

    rate: Rate
    current: str
    previous: str
    elapsed: float  # the share of the current period gone, 0 <= elapsed < 1

    @classmethod
    def at(cls, rate: Rate, now: float) -> _Window:
        position = now / rate.duration
        index = math.floor(position)
        return cls(rate, _KEY.format(period=index), _KEY.format(period=index - 1), position - index)

    @property
    def timeout(self) -> int:
        """How long a counter must live: its own period and the next one."""
        return 2 * self.rate.duration + 1

    def refusal(self, count: int, previous: int) -> SiteRateLimited | None:
        """None if ``count`` sessions this period (this one included) are within the rate,
        given ``previous`` last period; else the exception, with when to come back."""
        weight = previous * (1 - self.elapsed)
        if weight + count <= self.rate.limit:
            return None
        # When it would fit: later in this period, as the last period's share falls, or
        # in the next one, where this period's other sessions are the last period's.
        limit = self.rate.limit
        if count <= limit:
            opens = 1 - (limit - count) / previous
        else:
            others = count - 1
            opens = 1 + max(0.0, 1 - (limit - 1) / others)
        wait = max(opens - self.elapsed, 0.0) * self.rate.duration
        return SiteRateLimited(retry_after=max(1, math.ceil(round(wait, 6))))  # no 36.0000001


def _rate() -> Rate | None:
    text = get_settings().SITE_SESSION_RATE
    return None if text is None else Rate.parse(text)


def spend_site_budget(now: float | None = None) -> None:
    """Count one session against ``SITE_SESSION_RATE``; :class:`SiteRateLimited` past it."""
    rate = _rate()
    if rate is None:
        return
    window = _Window.at(rate, time.time() if now is None else now)
    counts = cache.get_many([window.current, window.previous])
    previous = int(counts.get(window.previous) or 0)
    refused = window.refusal(int(counts.get(window.current) or 0) + 1, previous)
    if refused is not None:
        raise refused
    try:
        count = cache.incr(window.current)
    except ValueError:  # the period's first session (a no-op for the racer that lost)
        cache.add(window.current, 0, window.timeout)
        count = cache.incr(window.current)
    refused = window.refusal(count, previous)
    if refused is not None:
        cache.decr(window.current)
        raise refused


async def aspend_site_budget(now: float | None = None) -> None:
    """:func:`spend_site_budget` with the cache's async methods."""
    rate = _rate()
    if rate is None:
        return
    window = _Window.at(rate, time.time() if now is None else now)
    counts = await cache.aget_many([window.current, window.previous])
    previous = int(counts.get(window.previous) or 0)
    refused = window.refusal(int(counts.get(window.current) or 0) + 1, previous)
    if refused is not None:
        raise refused
    try:
        count = await cache.aincr(window.current)
    except ValueError:
        await cache.aadd(window.current, 0, window.timeout)
        count = await cache.aincr(window.current)
    refused = window.refusal(count, previous)
    if refused is not None:
        await cache.adecr(window.current)
        raise refused
