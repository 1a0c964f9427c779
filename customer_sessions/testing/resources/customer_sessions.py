"""Customer Sessions: ``POST /v1/customer_sessions``, the only thing Stripe lets you do with one.

The answer lists every component of the response schema: those asked for echoed with
their features (Payment Element features Stripe fills in when left out), the rest off.
The ``client_secret`` lasts :data:`SESSION_LIFETIME` seconds, as Stripe's does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ParamError
from ..exchange import Request
from ..ids import now, random_string
from ..schema import object_schema
from ..store import Store
from ..validation import validate
from . import accounts
from .customers import existing

__all__ = ["PAYMENT_ELEMENT_DEFAULTS", "SESSION_LIFETIME", "create", "echo_components"]

SESSION_LIFETIME = 30 * 60

#: What Stripe answers for the Payment Element's features a request leaves out.
PAYMENT_ELEMENT_DEFAULTS: dict[str, Any] = {
    "payment_method_allow_redisplay_filters": ["always"],
    "payment_method_redisplay": "disabled",
    "payment_method_redisplay_limit": 3,
    "payment_method_remove": "disabled",
    "payment_method_save": "disabled",
    "payment_method_save_usage": None,
}


def create(store: Store, request: Request) -> tuple[int, Any]:
    params = validate("PostCustomerSessions", request.params)
    requested: dict[str, Any] = params["components"]
    if not any(component.get("enabled") for component in requested.values()):
        raise ParamError("At least one component must be enabled.", param="components")
    customer_id = params.get("customer")
    customer_account = params.get("customer_account")
    if customer_id is not None and customer_account is not None:
        raise ParamError(
            "You may only specify one of these parameters: customer, customer_account.",
            param="customer_account",
        )
    if customer_account is not None:
        customer_id = accounts.existing(store, request, customer_account, param="customer_account")
    elif customer_id is None:
        raise ParamError(
            "Missing required param: customer.", param="customer", code="parameter_missing"
        )
    else:
        existing(store, request, customer_id, param="customer")
    created = now()
    session = {
        "object": "customer_session",
        "client_secret": "cuss_secret_" + random_string(48),
        "components": echo_components(requested),
        "created": created,
        "customer": customer_id,
        "customer_account": customer_account,
        "expires_at": created + SESSION_LIFETIME,
        "livemode": request.livemode,
    }
    store.add_session(session, request.namespace)
    return 200, session


def echo_components(requested: Mapping[str, Any]) -> dict[str, Any]:
    """Every component the response schema lists: requested ones echoed, the rest off."""
    response_schema = object_schema("customer_session")["properties"]["components"]
    out: dict[str, Any] = {}
    for name, component_schema in sorted(response_schema["properties"].items()):
        asked = requested.get(name, {})
        enabled = bool(asked.get("enabled", False))
        component: dict[str, Any] = {"enabled": enabled}
        if "features" in component_schema.get("properties", {}):
            features_schema = component_schema["properties"]["features"]
            alternatives = features_schema.get("anyOf") or [features_schema]
            names = sorted(alternatives[0].get("properties", {}))
            if not enabled:
                component["features"] = None
            else:
                given = asked.get("features") or {}
                defaults = PAYMENT_ELEMENT_DEFAULTS if name == "payment_element" else {}
                component["features"] = {
                    feature: given.get(feature, defaults.get(feature)) for feature in names
                }
        out[name] = component
    return out
