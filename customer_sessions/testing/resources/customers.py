"""Customers: ``/v1/customers`` create, retrieve, update and delete, as Stripe answers them."""

from __future__ import annotations

import copy
from typing import Any

from ..errors import StripeError
from ..exchange import Namespace, Request
from ..ids import now, random_string
from ..store import Store
from ..validation import validate

__all__ = ["create", "delete", "existing", "new_customer", "retrieve", "update"]


def new_customer(store: Store, namespace: Namespace, params: dict[str, Any]) -> dict[str, Any]:
    """Store a customer made from validated ``params``; a copy of it, as Stripe answers."""
    metadata = params.get("metadata") or {}
    obj: dict[str, Any] = {
        "id": "cus_" + random_string(14),
        "object": "customer",
        "address": params.get("address") or None,
        "balance": params.get("balance", 0),
        "created": now(),
        "currency": None,
        "customer_account": None,
        "default_source": None,
        "delinquent": False,
        "description": params.get("description") or None,
        "discount": None,
        "email": params.get("email") or None,
        "invoice_prefix": params.get("invoice_prefix") or random_string(8).upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": namespace[1],
        "metadata": {k: v for k, v in metadata.items() if v != ""},
        "name": params.get("name") or None,
        "next_invoice_sequence": params.get("next_invoice_sequence", 1),
        "phone": params.get("phone") or None,
        "preferred_locales": params.get("preferred_locales") or [],
        "shipping": params.get("shipping") or None,
        "tax_exempt": params.get("tax_exempt") or "none",
        "test_clock": None,
    }
    for optional in ("business_name", "individual_name"):
        if params.get(optional):
            obj[optional] = params[optional]
    store.add(obj, namespace)
    return copy.deepcopy(obj)


def existing(store: Store, request: Request, customer_id: str, *, param: str) -> str:
    """``customer_id`` when it names a customer that is not deleted, for another resource's
    ``customer`` parameter; else Stripe's 400 "No such customer"."""
    stored = store.find(request.namespace, customer_id, "customer", param=param, status=400)
    if stored.deleted:
        raise _missing(customer_id, param=param, status=400)
    return customer_id


def create(store: Store, request: Request) -> tuple[int, Any]:
    params = validate("PostCustomers", request.params)
    return 200, new_customer(store, request.namespace, params)


def retrieve(store: Store, request: Request, customer_id: str) -> tuple[int, Any]:
    validate("GetCustomersCustomer", request.params)
    stored = store.find(request.namespace, customer_id, "customer", param="id", status=404)
    if stored.deleted:
        return 200, _deleted(customer_id)
    return 200, copy.deepcopy(stored.obj)


def update(store: Store, request: Request, customer_id: str) -> tuple[int, Any]:
    params = validate("PostCustomersCustomer", request.params)
    stored = store.find(request.namespace, customer_id, "customer", param="id", status=404)
    if stored.deleted:
        raise _missing(customer_id, param="id", status=404)
    with store.lock:
        obj = stored.obj
        for name, value in params.items():
            if name == "expand":
                continue
            if name == "metadata":
                if value == "":
                    obj["metadata"] = {}
                    continue
                for k, v in value.items():
                    if v == "":
                        obj["metadata"].pop(k, None)
                    else:
                        obj["metadata"][k] = v
            elif name in obj or name in ("business_name", "individual_name"):
                obj[name] = None if value == "" else value
        return 200, copy.deepcopy(obj)


def delete(store: Store, request: Request, customer_id: str) -> tuple[int, Any]:
    validate("DeleteCustomersCustomer", request.params)
    stored = store.find(request.namespace, customer_id, "customer", param="id", status=404)
    with store.lock:
        if stored.deleted:
            raise _missing(customer_id, param="id", status=404)
        stored.deleted = True
    return 200, _deleted(customer_id)


def _deleted(customer_id: str) -> dict[str, Any]:
    return {"id": customer_id, "object": "customer", "deleted": True}


def _missing(customer_id: str, *, param: str, status: int) -> StripeError:
    return StripeError(
        status, f"No such customer: '{customer_id}'", code="resource_missing", param=param
    )
