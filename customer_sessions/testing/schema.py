"""The request schemas the double checks parameters against, by Stripe's operation id.

Most come from ``stripe_schema.json``: the structure of Stripe's OpenAPI request bodies
and objects (see ``tools/extract_stripe_schema.py`` for where it comes from). The extract
has none for PaymentIntents, SetupIntents, retrieving them and the account: those are
written here, in the same form, with the parameters a checkout page uses.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

__all__ = [
    "PAYMENT_INTENT_CREATE",
    "RETRIEVE",
    "SETUP_INTENT_CREATE",
    "load",
    "object_schema",
    "operations",
    "request_schema",
]


@functools.cache
def load() -> dict[str, Any]:
    """The whole ``stripe_schema.json``."""
    text = resources.files(__package__).joinpath("stripe_schema.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def object_schema(name: str) -> dict[str, Any]:
    """The response schema of a Stripe object (``customer``, ``customer_session``, …)."""
    schema: dict[str, Any] = load()["objects"][name]
    return schema


def request_schema(operation_id: str) -> dict[str, Any]:
    """The parameters of one operation (``PostCustomers``, ``PostPaymentIntents``, …)."""
    written = _WRITTEN_HERE.get(operation_id)
    if written is not None:
        return written
    schema: dict[str, Any] = load()["requests"][operation_id]
    return schema


def operations() -> list[str]:
    """Every operation id :func:`request_schema` knows."""
    return sorted({*load()["requests"], *_WRITTEN_HERE})


# --- written here (the extract has none for these) --------------------------------------

_STRING: dict[str, Any] = {"maxLength": 5000, "type": "string"}
_METADATA: dict[str, Any] = {
    "anyOf": [
        {"additionalProperties": {"type": "string"}, "type": "object"},
        {"enum": [""], "type": "string"},
    ]
}
_EXPAND: dict[str, Any] = {"items": _STRING, "type": "array"}
_AUTOMATIC_PAYMENT_METHODS: dict[str, Any] = {
    "properties": {
        "allow_redirects": {"enum": ["always", "never"], "type": "string"},
        "enabled": {"type": "boolean"},
    },
    "required": ["enabled"],
    "type": "object",
}

#: ``POST /v1/payment_intents``: the parameters a demo checkout page uses.
PAYMENT_INTENT_CREATE: dict[str, Any] = {
    "additionalProperties": False,
    "properties": {
        "amount": {"type": "integer"},
        "automatic_payment_methods": _AUTOMATIC_PAYMENT_METHODS,
        "currency": {"format": "currency", "type": "string"},
        "customer": _STRING,
        "description": {"maxLength": 1000, "type": "string"},
        "expand": _EXPAND,
        "metadata": _METADATA,
        "payment_method_types": {"items": _STRING, "type": "array"},
        "receipt_email": _STRING,
        "setup_future_usage": {"enum": ["off_session", "on_session"], "type": "string"},
    },
    "required": ["amount", "currency"],
    "type": "object",
}

#: ``POST /v1/setup_intents``.
SETUP_INTENT_CREATE: dict[str, Any] = {
    "additionalProperties": False,
    "properties": {
        "automatic_payment_methods": _AUTOMATIC_PAYMENT_METHODS,
        "customer": _STRING,
        "description": {"maxLength": 1000, "type": "string"},
        "expand": _EXPAND,
        "metadata": _METADATA,
        "payment_method_types": {"items": _STRING, "type": "array"},
        "usage": {"enum": ["off_session", "on_session"], "type": "string"},
    },
    "type": "object",
}

#: A retrieve: only ``expand`` in the query string.
RETRIEVE: dict[str, Any] = {
    "additionalProperties": False,
    "properties": {"expand": _EXPAND},
    "type": "object",
}

_WRITTEN_HERE: dict[str, dict[str, Any]] = {
    "GetAccount": RETRIEVE,
    "GetPaymentIntentsIntent": RETRIEVE,
    "GetSetupIntentsIntent": RETRIEVE,
    "PostPaymentIntents": PAYMENT_INTENT_CREATE,
    "PostSetupIntents": SETUP_INTENT_CREATE,
}
