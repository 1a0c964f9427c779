"""PaymentIntents and SetupIntents: create and retrieve, enough for a checkout page.

A new intent waits for a payment method (``requires_payment_method``) and carries a
``client_secret`` of Stripe's form, ``{id}_secret_…``; it is never confirmed here.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from ..errors import ParamError
from ..exchange import Request
from ..ids import now, random_string
from ..store import Store
from ..validation import validate
from .customers import existing

__all__ = ["create_payment_intent", "create_setup_intent", "retrieve"]

_CURRENCY = re.compile(r"^[a-z]{3}$")


def create_payment_intent(store: Store, request: Request) -> tuple[int, Any]:
    params = validate("PostPaymentIntents", request.params)
    if params["amount"] < 1:
        raise ParamError(
            "This value must be greater than or equal to 1.",
            param="amount",
            code="parameter_invalid_integer",
        )
    currency = params["currency"].lower()
    if not _CURRENCY.match(currency):
        raise ParamError(f"Invalid currency: {params['currency']}", param="currency")
    customer = _customer(store, request, params)
    intent_id = "pi_" + random_string(24)
    obj = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": params["amount"],
        "amount_capturable": 0,
        "amount_received": 0,
        "automatic_payment_methods": _automatic_payment_methods(params),
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": f"{intent_id}_secret_{random_string(25)}",
        "confirmation_method": "automatic",
        "created": now(),
        "currency": currency,
        "customer": customer,
        "description": params.get("description") or None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": request.livemode,
        "metadata": _metadata(params),
        "next_action": None,
        "payment_method": None,
        "payment_method_types": params.get("payment_method_types") or ["card"],
        "receipt_email": params.get("receipt_email") or None,
        "setup_future_usage": params.get("setup_future_usage"),
        "shipping": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }
    store.add(obj, request.namespace)
    return 200, obj


def create_setup_intent(store: Store, request: Request) -> tuple[int, Any]:
    params = validate("PostSetupIntents", request.params)
    customer = _customer(store, request, params)
    intent_id = "seti_" + random_string(24)
    obj = {
        "id": intent_id,
        "object": "setup_intent",
        "application": None,
        "automatic_payment_methods": _automatic_payment_methods(params),
        "cancellation_reason": None,
        "client_secret": f"{intent_id}_secret_{random_string(32)}",
        "created": now(),
        "customer": customer,
        "description": params.get("description") or None,
        "last_setup_error": None,
        "latest_attempt": None,
        "livemode": request.livemode,
        "mandate": None,
        "metadata": _metadata(params),
        "next_action": None,
        "payment_method": None,
        "payment_method_types": params.get("payment_method_types") or ["card"],
        "single_use_mandate": None,
        "status": "requires_payment_method",
        "usage": params.get("usage", "off_session"),
    }
    store.add(obj, request.namespace)
    return 200, obj


def retrieve(store: Store, request: Request, intent_id: str, noun: str) -> tuple[int, Any]:
    """``noun``: ``payment_intent`` or ``setupintent`` (as Stripe's "No such …" names it)."""
    operation = "GetPaymentIntentsIntent" if noun == "payment_intent" else "GetSetupIntentsIntent"
    validate(operation, request.params)
    stored = store.find(request.namespace, intent_id, noun, param="intent", status=404)
    return 200, copy.deepcopy(stored.obj)


def _customer(store: Store, request: Request, params: dict[str, Any]) -> str | None:
    customer_id = params.get("customer")
    if customer_id is None:
        return None
    return existing(store, request, customer_id, param="customer")


def _automatic_payment_methods(params: dict[str, Any]) -> dict[str, Any] | None:
    apm = params.get("automatic_payment_methods")
    if not apm:
        return None
    return {"allow_redirects": apm.get("allow_redirects", "always"), "enabled": apm["enabled"]}


def _metadata(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (params.get("metadata") or {}).items() if v != ""}
