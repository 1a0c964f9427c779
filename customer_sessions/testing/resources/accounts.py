"""Accounts v2: ``/v2/core/accounts`` create, retrieve and close, as Stripe answers them.

Only what a customer-configured Account needs: the ``customer`` configuration, contact
details, ``metadata`` and ``include``. Each account is linked to a v1 customer id
(``cus_…``), which a Customer Session made with ``customer_account`` answers as its
``customer``. Bodies are JSON (v2); errors are answered in v2's shape (see
:func:`..errors.error_body`).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from ..errors import ParamError, StripeError
from ..exchange import Namespace, Request
from ..ids import now, random_string
from ..store import Store
from ..validation import validate

__all__ = ["close", "create", "existing", "new_account", "retrieve"]

#: The parts of an account answered only when ``include`` names them.
INCLUDABLE = ("configuration", "defaults", "future_requirements", "identity", "requirements")


def new_account(store: Store, namespace: Namespace, params: dict[str, Any]) -> dict[str, Any]:
    """Store an account made from validated ``params``; the whole stored object."""
    configuration = params.get("configuration") or {}
    applied = sorted(configuration)
    created = datetime.fromtimestamp(now(), UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    obj: dict[str, Any] = {
        "id": "acct_" + random_string(16),
        "object": "v2.core.account",
        "applied_configurations": applied,
        "closed": False,
        "configuration": {name: _configuration(name, configuration[name]) for name in applied},
        "contact_email": params.get("contact_email"),
        "contact_phone": None,
        "created": created,
        "dashboard": params.get("dashboard"),
        "defaults": params.get("defaults"),
        "display_name": params.get("display_name"),
        "future_requirements": None,
        "identity": params.get("identity"),
        "livemode": namespace[1],
        "metadata": dict(params.get("metadata") or {}),
        "requirements": None,
    }
    customer_id = "cus_" + random_string(14)
    store.add(obj, namespace, linked=customer_id)
    return copy.deepcopy(obj)


def _configuration(name: str, given: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(given)
    if name == "customer":
        capabilities = out.pop("capabilities", None) or {}
        out["capabilities"] = {
            capability: {"requested": bool(asked.get("requested")), "status": "active"}
            for capability, asked in capabilities.items()
        }
        out.setdefault("automatic_indirect_tax", None)
        out.setdefault("billing", None)
        out.setdefault("shipping", None)
        out.setdefault("test_clock", None)
    return out


def answer(obj: dict[str, Any], include: list[str] | None) -> dict[str, Any]:
    """``obj`` as Stripe answers it: the includable parts null unless ``include`` names them;
    of ``configuration``, only the configurations it names."""
    wanted = set(include or [])
    out = copy.deepcopy(obj)
    for part in INCLUDABLE:
        if part == "configuration":
            named = {w.split(".", 1)[1] for w in wanted if w.startswith("configuration.")}
            config = {k: v for k, v in (out["configuration"] or {}).items() if k in named}
            out["configuration"] = config or None
        elif part not in wanted:
            out[part] = None
    return out


def existing(store: Store, request: Request, account_id: str, *, param: str) -> str:
    """The customer id linked to ``account_id`` when it names an open account with a
    customer configuration, for a v1 resource's ``customer_account`` parameter; a closed
    one is "No such account", as a deleted customer is "No such customer"."""
    stored = store.find(request.namespace, account_id, "account", param=param, status=400)
    if stored.obj["closed"]:
        raise StripeError(
            400, f"No such account: '{account_id}'", code="resource_missing", param=param
        )
    if "customer" not in stored.obj["applied_configurations"]:
        raise StripeError(
            400,
            f"The account '{account_id}' cannot be used as a customer: it has no active "
            "customer configuration.",
            param=param,
        )
    return stored.linked


def create(store: Store, request: Request) -> tuple[int, Any]:
    params = validate("V2CoreAccountsCreate", request.params)
    obj = new_account(store, request.namespace, params)
    return 200, answer(obj, params.get("include"))


def retrieve(store: Store, request: Request, account_id: str) -> tuple[int, Any]:
    params = validate("V2CoreAccountsRetrieve", request.params)
    stored = store.find(request.namespace, account_id, "account", param="id", status=404)
    return 200, answer(stored.obj, params.get("include"))


def close(store: Store, request: Request, account_id: str) -> tuple[int, Any]:
    params = validate("V2CoreAccountsClose", request.params)
    stored = store.find(request.namespace, account_id, "account", param="id", status=404)
    with store.lock:
        obj = stored.obj
        applied = sorted(params.get("applied_configurations") or [])
        if applied != sorted(obj["applied_configurations"]):
            raise ParamError(
                "applied_configurations must list every configuration of the account: "
                f"{', '.join(obj['applied_configurations'])}.",
                param="applied_configurations",
            )
        obj["closed"] = True
        stored.deleted = True
        return 200, answer(obj, None)
