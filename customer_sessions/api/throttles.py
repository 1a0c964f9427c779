from __future__ import annotations

from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

from ..conf import get_settings


class CustomerSessionRateThrottle(UserRateThrottle):
    """Per-user rate of new sessions, so one account cannot use up the site's Stripe rate.

    The rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["customer_session"]`` when the
    site sets it, else ``CUSTOMER_SESSIONS["THROTTLE_RATE"]`` (``None`` turns it off).
    Counts live in Django's default cache: use a shared cache (Redis, Memcached) when the
    site runs several processes.

    Unlike DRF's throttles, which read a list of timestamps and write it back (so parallel
    requests overwrite each other's entries and a burst gets through uncounted), the count
    is one atomic counter per user (``cache.incr``, one cache operation per request) in a
    window that starts with the user's first request (``cache.add``).
    """

    scope = "customer_session"
    window_start: float = 0.0

    def get_rate(self) -> str | None:
        # Read at call time (THROTTLE_RATES on the class froze at import).
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES or {}
        if self.scope in rates:
            return rates[self.scope]
        return get_settings().THROTTLE_RATE

    def allow_request(self, request: Any, view: Any) -> bool:
        limit, duration = self.parse_rate(self.rate)
        if limit is None or duration is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        count_key = f"{self.key}_count"
        try:
            # While the user's window is open: one cache operation per request.
            count = self.cache.incr(count_key)
        except ValueError:  # no open window: open one (a no-op for the racer that lost)
            self.cache.add(f"{self.key}_start", self.now, duration)
            self.cache.add(count_key, 0, duration)
            try:
                count = self.cache.incr(count_key)
            except ValueError:  # the window expired between add and incr: open the next
                self.cache.add(count_key, 0, duration)
                count = self.cache.incr(count_key)
        return bool(count <= limit)

    def wait(self) -> float | None:
        # Read only for a refused request: when the user's window started.
        self.window_start = float(self.cache.get(f"{self.key}_start", self.now))
        _, duration = self.parse_rate(self.rate)
        return max(1.0, self.window_start + (duration or 0) - self.now)
