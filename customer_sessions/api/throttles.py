from __future__ import annotations

from typing import Any

from rest_framework.throttling import UserRateThrottle

from ..throttling import SCOPE, Rate, configured_rate, spend


class CustomerSessionRateThrottle(UserRateThrottle):
    """Per-user rate of new sessions, so one account cannot use up the site's Stripe rate.

    The allowance is the one the tag and the Python API spend too
    (:mod:`customer_sessions.throttling`): its rate, cache and counting rules are there.
    """

    scope = SCOPE
    _wait: float | None = None

    def get_rate(self) -> str | None:
        # Read at call time (THROTTLE_RATES on the class froze at import).
        return configured_rate()

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self._wait = spend(self.key, Rate.parse(self.rate))
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait
