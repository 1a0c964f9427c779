"""The request schemas the double checks parameters against, by Stripe's operation id.

Most come from ``stripe_schema.json``: the structure of Stripe's OpenAPI request bodies
and objects (see ``tools/extract_stripe_schema.py`` for where it comes from). The extract
has none for PaymentIntents, SetupIntents, retrieving them and the account: those are
written here, in the same form, with the parameters a checkout page uses. Nor has it
Accounts v2 (``/v2/core/accounts``): those are written here from the request types that
ship inside stripe-python (``stripe/params/v2/core/_account_*_params.py``), the parts a
customer-configured Account uses, as typed by every stripe-python the app supports
(``contact_phone`` came after 14.1, so it is left out); ``tests/testing/test_accounts.py``
holds them to those types.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

__all__ = [
    "ACCOUNT_CUSTOMER_CONFIGURATION",
    "PAYMENT_INTENT_CREATE",
    "RETRIEVE",
    "SETUP_INTENT_CREATE",
    "V2_ACCOUNT_CLOSE",
    "V2_ACCOUNT_CREATE",
    "V2_ACCOUNT_RETRIEVE",
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

# --- Accounts v2 (JSON bodies, so no form coercion is needed but none hurts) -----------

_INCLUDE: dict[str, Any] = {
    "items": {
        "enum": [
            "configuration.customer",
            "configuration.merchant",
            "configuration.recipient",
            "defaults",
            "future_requirements",
            "identity",
            "requirements",
        ],
        "type": "string",
    },
    "type": "array",
}
_CONFIGURATIONS: dict[str, Any] = {
    "items": {"enum": ["customer", "merchant", "recipient"], "type": "string"},
    "type": "array",
}
_ADDRESS: dict[str, Any] = {
    "properties": {
        name: _STRING for name in ("city", "country", "line1", "line2", "postal_code", "state")
    },
    "type": "object",
}

#: ``configuration.customer`` of ``POST /v2/core/accounts``.
ACCOUNT_CUSTOMER_CONFIGURATION: dict[str, Any] = {
    "properties": {
        "automatic_indirect_tax": {
            "properties": {
                "exempt": {"enum": ["exempt", "none", "reverse"], "type": "string"},
                "ip_address": _STRING,
            },
            "type": "object",
        },
        "billing": {
            "properties": {
                "invoice": {
                    "properties": {
                        "custom_fields": {
                            "items": {
                                "properties": {"name": _STRING, "value": _STRING},
                                "required": ["name", "value"],
                                "type": "object",
                            },
                            "type": "array",
                        },
                        "footer": _STRING,
                        "next_sequence": {"type": "integer"},
                        "prefix": _STRING,
                        "rendering": {
                            "properties": {
                                "amount_tax_display": {
                                    "enum": ["exclude_tax", "include_inclusive_tax"],
                                    "type": "string",
                                },
                                "template": _STRING,
                            },
                            "type": "object",
                        },
                    },
                    "type": "object",
                }
            },
            "type": "object",
        },
        "capabilities": {
            "properties": {
                "automatic_indirect_tax": {
                    "properties": {"requested": {"type": "boolean"}},
                    "required": ["requested"],
                    "type": "object",
                }
            },
            "type": "object",
        },
        "shipping": {
            "properties": {"address": _ADDRESS, "name": _STRING, "phone": _STRING},
            "type": "object",
        },
        "test_clock": _STRING,
    },
    "type": "object",
}

#: ``POST /v2/core/accounts``: an account with a customer configuration.
V2_ACCOUNT_CREATE: dict[str, Any] = {
    "additionalProperties": False,
    "properties": {
        "configuration": {
            "properties": {"customer": ACCOUNT_CUSTOMER_CONFIGURATION},
            "type": "object",
        },
        "contact_email": _STRING,
        "dashboard": {"enum": ["express", "full", "none"], "type": "string"},
        "display_name": _STRING,
        "include": _INCLUDE,
        "metadata": {"additionalProperties": {"type": "string"}, "type": "object"},
    },
    "type": "object",
}

#: ``GET /v2/core/accounts/{id}``.
V2_ACCOUNT_RETRIEVE: dict[str, Any] = {
    "additionalProperties": False,
    "properties": {"include": _INCLUDE},
    "type": "object",
}

#: ``POST /v2/core/accounts/{id}/close``.
V2_ACCOUNT_CLOSE: dict[str, Any] = {
    "additionalProperties": False,
    "properties": {"applied_configurations": _CONFIGURATIONS},
    "type": "object",
}

_WRITTEN_HERE: dict[str, dict[str, Any]] = {
    "V2CoreAccountsClose": V2_ACCOUNT_CLOSE,
    "V2CoreAccountsCreate": V2_ACCOUNT_CREATE,
    "V2CoreAccountsRetrieve": V2_ACCOUNT_RETRIEVE,
    "GetAccount": RETRIEVE,
    "GetPaymentIntentsIntent": RETRIEVE,
    "GetSetupIntentsIntent": RETRIEVE,
    "PostPaymentIntents": PAYMENT_INTENT_CREATE,
    "PostSetupIntents": SETUP_INTENT_CREATE,
}
