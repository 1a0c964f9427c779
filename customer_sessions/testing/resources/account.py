"""The account: ``GET /v1/account``, the key's own account or the connected one."""

from __future__ import annotations

from typing import Any

from ..exchange import Request
from ..store import Store
from ..validation import validate

__all__ = ["retrieve"]


def retrieve(store: Store, request: Request) -> tuple[int, Any]:
    """The key's account, or the connected one (``Stripe-Account``)."""
    validate("GetAccount", request.params)
    return 200, {
        "id": request.account or request.platform,
        "object": "account",
        "charges_enabled": True,
        "country": "US",
        "default_currency": "usd",
        "details_submitted": True,
        "payouts_enabled": True,
        "type": "custom" if request.account else "standard",
    }
