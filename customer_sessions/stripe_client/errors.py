"""stripe-python's exceptions turned into the app's, with a log line that holds no secret."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import stripe

from ..conf import SETTING_NAME
from ..exceptions import (
    CustomerSessionError,
    StripeInvalidRequest,
    StripeMisconfigured,
    StripeRateLimited,
    StripeUnavailable,
)

logger = logging.getLogger(__name__)


def describe(exc: stripe.StripeError) -> str:
    """What a log line may say of a Stripe error: never its message, which can hold a key."""
    return (
        f"{type(exc).__name__} (status {exc.http_status or '-'}, "
        f"code {exc.code or '-'}, request {exc.request_id or '-'})"
    )


def retry_after(exc: stripe.StripeError) -> int:
    """Stripe's ``Retry-After`` in whole seconds (at least 1)."""
    headers = exc.headers or {}
    value = headers.get("retry-after") or headers.get("Retry-After")
    try:
        return max(1, int(float(value))) if value else 1
    except ValueError:
        return 1


def app_error(exc: stripe.StripeError, action: str) -> CustomerSessionError:
    """The app's exception for a Stripe error met while trying to ``action``."""
    if isinstance(exc, stripe.RateLimitError):
        return StripeRateLimited(retry_after=retry_after(exc))
    if isinstance(exc, stripe.APIConnectionError | stripe.APIError):
        return StripeUnavailable(retry_after=1)
    if isinstance(exc, stripe.AuthenticationError):
        return StripeMisconfigured(
            f"Stripe refused {SETTING_NAME}['SECRET_KEY'] (401). Check the key."
        )
    if isinstance(exc, stripe.PermissionError):
        return StripeMisconfigured(
            f"{SETTING_NAME}['SECRET_KEY'] lacks a permission needed to {action} (403)."
        )
    return StripeInvalidRequest()


@contextmanager
def stripe_errors(action: str, user_pk: Any, customer_id: str = "") -> Iterator[None]:
    """Turn stripe-python's exceptions into the app's, logging what happened (no secrets)."""
    try:
        yield
    except stripe.StripeError as exc:
        error = app_error(exc, action)
        log = logger.error if isinstance(error, StripeMisconfigured) else logger.warning
        log(
            "Stripe failed to %s for user %s, customer %s: %s -> %s",
            action,
            user_pk,
            customer_id or "-",
            describe(exc),
            error.code,
        )
        raise error from None
