"""One API call through the double: the request as read, as authenticated, and the answer.

The HTTP handler reads a :class:`RawRequest`; authentication turns it into a
:class:`Request` (whose key says the mode and the platform account); a resource answers
with a :class:`Response`; the :class:`Outcome` tells the handler how to send it (whole,
cut off, garbled, or not at all).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ParamError

__all__ = ["Namespace", "Outcome", "RawRequest", "Request", "Response"]

#: Where an object lives: (platform account, livemode, connected account or "").
Namespace = tuple[str, bool, str]


@dataclass
class RawRequest:
    """A request as the HTTP handler read it, before anything was checked."""

    method: str
    path: str
    #: Query string and form body, parsed and nested (arrays still index-keyed dicts).
    params: dict[str, Any]
    #: Request headers with lower-cased names.
    headers: dict[str, str]
    api_key: str | None
    #: ``time.time()`` when the request arrived.
    time: float
    request_id: str
    #: The body could not be parsed (answered 400 after faults and delays are applied).
    parse_error: ParamError | None = None


@dataclass
class Request:
    """A request whose key was accepted: who makes it, and in which namespace."""

    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]
    api_key: str | None
    #: The connected account (``Stripe-Account``) or "".
    account: str
    livemode: bool
    idempotency_key: str | None
    request_id: str
    #: The Stripe account the key belongs to.
    platform: str = ""

    @property
    def namespace(self) -> Namespace:
        return (self.platform, self.livemode, self.account)


@dataclass
class Response:
    """A status and a JSON body (with extra headers) to answer."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    #: Refused before execution (validation, auth): never stored for idempotency.
    pre_execution: bool = False


@dataclass
class Outcome:
    """What the handler sends: the response, or a dropped, cut-off or garbled one."""

    response: Response | None
    replayed: bool = False
    drop: bool = False
    mid_response: bool = False
    malformed: bool = False
