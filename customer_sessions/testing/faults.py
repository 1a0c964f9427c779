"""Faults a test asks for: fail, stall, drop or garble the next matching requests.

:class:`Faults` keeps them in the order given; each request takes at most one delay and
one other fault (the first that matches), and a fault with ``times`` is used up after that
many requests. :func:`fault_response` is the answer to an injected failure: the error body
given, or the one Stripe would plausibly send with that status.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from typing import Any

from .auth import mask_key
from .errors import StripeError, error_body, log_url
from .exchange import RawRequest, Request, Response

__all__ = ["Fault", "Faults", "default_error", "fault_response"]


@dataclass
class Fault:
    """One fault: what it does, and which requests (and how many) it applies to."""

    kind: str  # "fail", "delay", "drop", "malformed"
    times: int | None
    path: str | None
    method: str | None
    status: int = 500
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    mid_response: bool = False

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path is None or path.startswith(self.path)


class Faults:
    """The faults waiting for requests, safe to use from the server's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take_delay(self, method: str, path: str) -> Fault | None:
        """The first delay that matches (counted as used once)."""
        return self._take(True, method, path)

    def take_fault(self, method: str, path: str) -> Fault | None:
        """The first fail, drop or malformed fault that matches (counted as used once)."""
        return self._take(False, method, path)

    def _take(self, delay: bool, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if (fault.kind == "delay") != delay or not fault.matches(method, path):
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return dataclasses.replace(fault)
        return None


def fault_response(fault: Fault, raw: RawRequest, request: Request | None) -> Response:
    """The answer to a ``fail`` fault; ``request`` is None when the key would be refused."""
    url = log_url(
        raw.request_id,
        raw.time,
        livemode=request is not None and request.livemode,
        account=request.account if request is not None else "",
    )
    if fault.error is not None:
        error = dict(fault.error)
        if fault.status != 401:
            error.setdefault("request_log_url", url)
        body: dict[str, Any] = {"error": error}
    else:
        message, type_, code = default_error(fault.status, raw.api_key)
        body = error_body(
            StripeError(fault.status, message, type=type_, code=code),
            request_log_url=url,
            v2=raw.path.startswith("/v2/"),
        )
    return Response(fault.status, body, headers=dict(fault.headers))


def default_error(status: int, api_key: str | None) -> tuple[str, str, str | None]:
    """(message, type, code) Stripe would plausibly answer an injected ``status`` with."""
    if status == 401:
        return f"Invalid API Key provided: {mask_key(api_key or '')}", "invalid_request_error", None
    if status == 402:
        return "Your card was declined.", "card_error", "card_declined"
    if status == 403:
        return (
            "The provided key does not have the required permissions for this endpoint.",
            "invalid_request_error",
            None,
        )
    if status == 404:
        return (
            "The requested resource does not exist.",
            "invalid_request_error",
            "resource_missing",
        )
    if status == 409:
        return (
            "This object cannot be accessed right now because another API request or Stripe "
            "process is currently accessing it. If you see this error intermittently, retry "
            "the request. If you see this error frequently and are making multiple concurrent "
            "requests to a single object, make your requests serially or at a lower rate.",
            "invalid_request_error",
            "lock_timeout",
        )
    if status == 429:
        return (
            "Request rate limit exceeded. Learn more about rate limits here "
            "https://stripe.com/docs/rate-limits.",
            "invalid_request_error",
            "rate_limit",
        )
    if status >= 500:
        return (
            "An unknown error occurred. Please try again; if the error persists, contact "
            "Stripe support.",
            "api_error",
            None,
        )
    return "Invalid request.", "invalid_request_error", None
