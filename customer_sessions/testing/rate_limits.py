"""Stripe's rate limit on writes, per account and mode, for tests that flood the double.

Stripe counts the requests of an account in each mode and answers 429 ``rate_limit``
past the limit (100 writes per second in live mode, 25 in test mode, by default) before
executing anything, so a refused request changes nothing and is not kept for idempotency.
:class:`WriteLimit` counts writes (``POST`` and ``DELETE``) in a sliding one-second window
per (platform account, livemode); it is off until a test or ``--write-limit`` sets it.
"""

from __future__ import annotations

import collections
import threading
import time

from .errors import StripeError

__all__ = ["RATE_LIMIT_MESSAGE", "WriteLimit"]

RATE_LIMIT_MESSAGE = (
    "Request rate limit exceeded. Learn more about rate limits here "
    "https://stripe.com/docs/rate-limits."
)
WRITES = frozenset({"POST", "DELETE"})


class WriteLimit:
    """At most ``per_second`` writes per account and mode in any one second; None: no limit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.per_second: int | None = None
        self._seen: dict[tuple[str, bool], collections.deque[float]] = {}

    def set(self, per_second: int | None) -> None:
        if per_second is not None and per_second < 1:
            raise ValueError(f"a write limit is a positive number of writes, not {per_second!r}")
        with self._lock:
            self.per_second = per_second
            self._seen.clear()

    def spend(self, method: str, platform: str, livemode: bool) -> None:
        """Count one request; :class:`StripeError` 429 ``rate_limit`` if it is over."""
        if method not in WRITES:
            return
        now = time.monotonic()
        with self._lock:
            if self.per_second is None:
                return
            seen = self._seen.setdefault((platform, livemode), collections.deque())
            while seen and seen[0] <= now - 1.0:
                seen.popleft()
            if len(seen) >= self.per_second:
                raise StripeError(429, RATE_LIMIT_MESSAGE, code="rate_limit", pre_execution=True)
            seen.append(now)
