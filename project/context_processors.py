from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def demo(request: HttpRequest) -> dict[str, Any]:
    """What every demo page needs: the publishable key and whether Stripe is simulated."""
    conf = settings.CUSTOMER_SESSIONS
    return {
        "stripe_publishable_key": conf.get("PUBLISHABLE_KEY") or "",
        "stripe_simulated": bool(conf.get("API_BASE")),
    }
