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
    """

    scope = "customer_session"

    def get_rate(self) -> str | None:
        # Read at call time (THROTTLE_RATES on the class froze at import).
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES or {}
        if self.scope in rates:
            return rates[self.scope]
        return get_settings().THROTTLE_RATE
