"""The site's budget of Customer Sessions, counted across every process and server.

Stripe's rate limit is per account and shared by every request a site makes (100 writes
per second in live mode, 25 in test mode), and a Customer Session is a write on every
checkout render. ``CUSTOMER_SESSIONS["SITE_SESSION_RATE"]`` (``"10/s"``, ``"600/min"``)
caps how many the whole site asks Stripe for, so that a flood of sessions never takes the
writes its payments need. Past it the session is refused at once with
:class:`~customer_sessions.exceptions.SiteRateLimited` (503, ``Retry-After``): nothing is
queued, nothing is sent.

Two counts, both in Django's default cache, which must be shared by every process
(Redis, Memcached; check W010 warns of a per-process cache); a session must pass both:

- *the last period exactly*: ``BUCKETS`` counters per period (one second for ``"/s"``); the
  counters of every slice that overlaps the last period, the oldest counted whole, stay
  within the rate. So no period ever holds more than the rate, as the app's servers tell
  the time; a flood pays with up to one slice (5 % of the period).
- *the rate spread over the period*: one counter per period, and this period's count
  plus the share of the last period's that is still inside the window stays within the
  rate. Alone it lets through up to 1.9 times the rate at the onset of a flood (it takes
  the last period's sessions as spread evenly, and after a quiet spell they are not); with
  the exact count alone, a flood's sessions come all at once, once a period, as the last
  burst ages out, and a little network jitter between the site and Stripe puts two bursts
  within one second of Stripe's limit. Together: at most the rate in any period, spread
  over it.

Measured with tests/reliability/test_site_budget.py: fixed windows refused a payment in
every run; the spread count alone, or the exact one alone, had sessions refused by
Stripe in some. A session reads every counter (one ``get_many``) and is refused there if
over, so a flood's refusals cost one cache operation and spend nothing; else it counts
itself (``incr``), and takes it back (``decr``) if a racer got there first.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from .conf import get_settings
from .exceptions import SiteRateLimited
from .throttling import Rate

#: Counters per period for the exact count: the window is overestimated by one of them.
BUCKETS = 20

_KEY = "customer_sessions_site_{duration}_{kind}{index}"


@dataclass(frozen=True)
class _Window:
    """Where ``now`` falls: the buckets overlapping the period that ends then (oldest
    first), and the period ``now`` is in, the last one, and how far into it."""

    rate: Rate
    now: float
    first: int  # the oldest bucket that overlaps (now - duration, now]
    last: int  # the bucket ``now`` is in
    period: int
    elapsed: float  # the share of the current period gone, 0 <= elapsed < 1

    @classmethod
    def at(cls, rate: Rate, now: float) -> _Window:
        # Whole numbers of buckets and periods from the epoch.
        last = math.floor(now * BUCKETS / rate.duration)
        first = math.floor((now - rate.duration) * BUCKETS / rate.duration)
        position = now / rate.duration
        period = math.floor(position)
        return cls(rate, now, first, last, period, position - period)

    def _key(self, kind: str, index: int) -> str:
        return _KEY.format(duration=self.rate.duration, kind=kind, index=index)

    @property
    def current(self) -> tuple[str, str]:
        """The counters a session counts itself in: its bucket and its period."""
        return self._key("b", self.last), self._key("p", self.period)

    @property
    def keys(self) -> list[str]:
        """Every counter read: the buckets, oldest first, then the last and this period."""
        buckets = [self._key("b", index) for index in range(self.first, self.last + 1)]
        return [*buckets, self._key("p", self.period - 1), self._key("p", self.period)]

    @property
    def timeout(self) -> int:
        """How long a counter must live: its own period and the next one."""
        return 2 * self.rate.duration + 1

    def counts(self, found: dict[str, Any], spent: tuple[int, int] | None = None) -> list[int]:
        """The counters in :attr:`keys` order, with this session in its bucket and period:
        added to what was read, or as ``spent`` (what ``incr`` answered) says."""
        counts = [int(found.get(key) or 0) for key in self.keys]
        if spent is None:
            counts[-3] += 1
            counts[-1] += 1
        else:
            counts[-3], counts[-1] = spent
        return counts

    def refusal(self, counts: list[int]) -> SiteRateLimited | None:
        """None if the sessions ``counts`` holds (this one included) are within the rate
        by both counts; else the exception, with when the later of the two opens."""
        *buckets, previous, count = counts
        waits = [self._exact_wait(buckets), self._spread_wait(count, previous)]
        if not any(wait is not None for wait in waits):
            return None
        wait = max(wait for wait in waits if wait is not None)
        return SiteRateLimited(retry_after=max(1, math.ceil(round(wait, 6))))  # no 36.0000001

    def _exact_wait(self, buckets: list[int]) -> float | None:
        others, limit = sum(buckets) - 1, self.rate.limit
        if others < limit:
            return None
        # A bucket leaves the window a period after it ends; the oldest go first.
        width = self.rate.duration / BUCKETS
        opens = (self.last + 1) * width + self.rate.duration  # a rate of 0 never opens sooner
        for offset, in_bucket in enumerate(buckets):
            others -= in_bucket
            if others < limit:
                opens = (self.first + offset + 1) * width + self.rate.duration
                break
        return max(opens - self.now, 0.0)

    def _spread_wait(self, count: int, previous: int) -> float | None:
        limit = self.rate.limit
        if previous * (1 - self.elapsed) + count <= limit:
            return None
        # When it would fit: later in this period, as the last period's share falls, or
        # in the next one, where this period's other sessions are the last period's.
        if count <= limit:
            opens = 1 - (limit - count) / previous
        else:
            opens = 1 + max(0.0, 1 - (limit - 1) / (count - 1))
        return max(opens - self.elapsed, 0.0) * self.rate.duration


def _rate() -> Rate | None:
    text = get_settings().SITE_SESSION_RATE
    return None if text is None else Rate.parse(text)


def spend_site_budget(now: float | None = None) -> None:
    """Count one session against ``SITE_SESSION_RATE``; :class:`SiteRateLimited` past it."""
    rate = _rate()
    if rate is None:
        return
    window = _Window.at(rate, time.time() if now is None else now)
    found = cache.get_many(window.keys)
    refused = window.refusal(window.counts(found))
    if refused is not None:
        raise refused
    bucket, period = window.current
    spent = (_incr(bucket, window.timeout), _incr(period, window.timeout))
    refused = window.refusal(window.counts(found, spent))
    if refused is not None:
        cache.decr(bucket)
        cache.decr(period)
        raise refused


def _incr(key: str, timeout: int) -> int:
    try:
        return cache.incr(key)
    except ValueError:  # the counter's first session (a no-op for the racer that lost)
        cache.add(key, 0, timeout)
        return cache.incr(key)


async def aspend_site_budget(now: float | None = None) -> None:
    """:func:`spend_site_budget` with the cache's async methods."""
    rate = _rate()
    if rate is None:
        return
    window = _Window.at(rate, time.time() if now is None else now)
    found = await cache.aget_many(window.keys)
    refused = window.refusal(window.counts(found))
    if refused is not None:
        raise refused
    bucket, period = window.current
    spent = (await _aincr(bucket, window.timeout), await _aincr(period, window.timeout))
    refused = window.refusal(window.counts(found, spent))
    if refused is not None:
        await cache.adecr(bucket)
        await cache.adecr(period)
        raise refused


async def _aincr(key: str, timeout: int) -> int:
    try:
        return await cache.aincr(key)
    except ValueError:
        await cache.aadd(key, 0, timeout)
        return await cache.aincr(key)
