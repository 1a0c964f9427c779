from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def demo(request: HttpRequest) -> dict[str, Any]:
    """What every demo page needs: the publishable key, whether Stripe is simulated, and
    whether the pages load the demo's stand-in for Stripe.js then."""
    conf = settings.CUSTOMER_SESSIONS
    simulated = bool(conf.get("API_BASE"))
    return {
        "stripe_publishable_key": conf.get("PUBLISHABLE_KEY") or "",
        "stripe_simulated": simulated,
        "stripe_js_stand_in": simulated and settings.STRIPE_JS_STAND_IN,
    }
