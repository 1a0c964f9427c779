"""Which resource answers a method and path, and Stripe's 404 for every other URL."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from .errors import StripeError
from .exchange import Request
from .resources import account, accounts, customer_sessions, customers, intents
from .store import Store

__all__ = ["ROUTES", "RouteHandler", "dispatch", "route"]

#: ``(store, request, *ids in the path) -> (status, body)``
RouteHandler = Callable[..., tuple[int, Any]]

ROUTES: list[tuple[str, re.Pattern[str], RouteHandler]] = [
    ("GET", re.compile(r"^/v1/account$"), account.retrieve),
    ("POST", re.compile(r"^/v1/customers$"), customers.create),
    ("GET", re.compile(r"^/v1/customers/([^/]+)$"), customers.retrieve),
    ("POST", re.compile(r"^/v1/customers/([^/]+)$"), customers.update),
    ("DELETE", re.compile(r"^/v1/customers/([^/]+)$"), customers.delete),
    ("POST", re.compile(r"^/v1/customer_sessions$"), customer_sessions.create),
    ("POST", re.compile(r"^/v2/core/accounts$"), accounts.create),
    ("GET", re.compile(r"^/v2/core/accounts/([^/]+)$"), accounts.retrieve),
    ("POST", re.compile(r"^/v2/core/accounts/([^/]+)/close$"), accounts.close),
    ("POST", re.compile(r"^/v1/payment_intents$"), intents.create_payment_intent),
    (
        "GET",
        re.compile(r"^/v1/payment_intents/([^/]+)$"),
        lambda store, request, i: intents.retrieve(store, request, i, "payment_intent"),
    ),
    ("POST", re.compile(r"^/v1/setup_intents$"), intents.create_setup_intent),
    (
        "GET",
        re.compile(r"^/v1/setup_intents/([^/]+)$"),
        lambda store, request, i: intents.retrieve(store, request, i, "setupintent"),
    ),
]


def route(method: str, path: str) -> tuple[RouteHandler, tuple[str, ...]] | None:
    """The handler for ``method path`` and the (unquoted) ids in the path; None if none."""
    for route_method, pattern, handler in ROUTES:
        if route_method != method:
            continue
        match = pattern.match(path)
        if match:
            return handler, tuple(unquote(group) for group in match.groups())
    return None


def dispatch(store: Store, request: Request) -> tuple[int, Any]:
    """The resource's answer to ``request``; StripeError as the resource (or Stripe) refuses it."""
    found = route(request.method, request.path)
    if found is None:
        raise StripeError(
            404,
            f"Unrecognized request URL ({request.method}: {request.path}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/.",
        )
    handler, ids = found
    return handler(store, request, *ids)
