"""Stripe-shaped errors: the exception the double's parts raise, and the body it is answered with.

A :class:`StripeError` raised anywhere between authentication and a resource becomes
``{"error": {...}}`` with Stripe's fields in Stripe's order; a :class:`ParamError` is one
refused before anything was executed, so it is never kept for idempotency.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DOCS", "ParamError", "StripeError", "error_body", "log_url"]

#: Where Stripe documents an error code: ``DOCS + code.replace("_", "-")``.
DOCS = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    """An error Stripe answers with: status, message, and the ``type``, ``code`` and ``param``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # noqa: A002 - Stripe's field name
        code: str | None = None,
        param: str | None = None,
        pre_execution: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        #: Refused before execution (a parameter, the key): never stored for idempotency.
        self.pre_execution = pre_execution


class ParamError(StripeError):
    """A request Stripe refuses for its parameters, before executing it."""

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status: int = 400,
    ) -> None:
        super().__init__(status, message, code=code, param=param, pre_execution=True)


def log_url(request_id: str, arrived: float, *, livemode: bool, account: str) -> str:
    """The dashboard's page of one request, as Stripe links it from every error."""
    mode = "" if livemode else "test/"
    prefix = f"{account}/" if account else ""
    return f"https://dashboard.stripe.com/{prefix}{mode}logs/{request_id}?t={int(arrived)}"


def error_body(error: StripeError, *, request_log_url: str, v2: bool = False) -> dict[str, Any]:
    """``{"error": {...}}`` for ``error``; no log URL on a 401 (no account is known then).

    ``v2``: the shape of the v2 API's errors, which stripe-python reads by ``type`` first
    (its own exception per v2 type, else the v1 rules by status): ``type``, ``code`` and
    ``message``, no ``doc_url`` nor ``request_log_url``.
    """
    if v2:
        body: dict[str, Any] = {"type": error.type, "code": error.code, "message": error.message}
        if error.param:
            body["param"] = error.param
        return {"error": body}
    fields: dict[str, Any] = {}
    if error.code:
        fields["code"] = error.code
        fields["doc_url"] = DOCS + error.code.replace("_", "-")
    fields["message"] = error.message
    if error.param:
        fields["param"] = error.param
    if error.status != 401:
        fields["request_log_url"] = request_log_url
    fields["type"] = error.type
    return {"error": fields}
