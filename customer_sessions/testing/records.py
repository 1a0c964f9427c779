"""What tests read from the double: recorded requests, stored objects, other accounts."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["FakeAccount", "RecordedRequest", "StoredObject"]


@dataclass(frozen=True)
class RecordedRequest:
    """One request the double received, and what it answered."""

    method: str
    path: str
    #: Query string (GET/DELETE) or form body (POST), parsed and nested; arrays as lists.
    params: dict[str, Any]
    #: Request headers with lower-cased names.
    headers: dict[str, str]
    api_key: str | None
    stripe_account: str | None
    idempotency_key: str | None
    #: The status answered; ``None`` when the connection was dropped instead.
    status: int | None
    #: True when the answer was an idempotent replay of an earlier response.
    replayed: bool
    #: ``time.time()`` when the request arrived.
    time: float
    request_id: str = ""
    #: The JSON body answered (``None`` for dropped or malformed answers).
    response: Any = None

    @property
    def livemode(self) -> bool | None:
        if self.api_key is None:
            return None
        return "_live_" in self.api_key[:8]


class StoredObject(dict[str, Any]):
    """A copy of a Stripe object the double holds, plus where it lives.

    ``platform`` is the Stripe account whose key made it (:attr:`FakeStripe.account_id`
    unless it was made with the keys of :meth:`FakeStripe.other_account`); ``account`` the
    connected account (``Stripe-Account``) or ``""``.
    """

    livemode: bool
    account: str
    platform: str

    def __init__(
        self, data: Mapping[str, Any], *, livemode: bool, account: str, platform: str = ""
    ) -> None:
        super().__init__(copy.deepcopy(dict(data)))
        self.livemode = livemode
        self.account = account
        self.platform = platform


@dataclass(frozen=True)
class FakeAccount:
    """Another Stripe account of the double: its keys reach only its own objects."""

    id: str
    secret_key: str
    live_secret_key: str
    publishable_key: str
    live_publishable_key: str
