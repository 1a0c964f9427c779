"""``Idempotency-Key`` as Stripe honours it: one execution per key, its answer replayed.

A key is scoped to the platform account, the mode and the connected account. The first
request with it claims it; a request arriving while that one runs is answered 409, one
with other parameters (or another path) 400, and one after it the stored answer, marked
``Idempotent-Replayed``. Answers refused before execution and 5xx answers are not kept,
so a client can fix its request or retry with the same key.
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass

from .errors import StripeError
from .exchange import RawRequest, Request, Response

__all__ = [
    "IDEMPOTENCY_IN_USE",
    "IDEMPOTENCY_MISMATCH",
    "Claim",
    "Ledger",
    "Slot",
    "fingerprint",
    "slot",
]

IDEMPOTENCY_MISMATCH = (
    "Keys for idempotent requests can only be used with the same parameters they were first "
    "used with. Try using a key other than '{key}' if you meant to execute a different request."
)
IDEMPOTENCY_IN_USE = (
    "There is currently another in-progress request using this Idempotent Key (that probably "
    "means you submitted twice, and the other request is still going through): {key}. "
    "Please try again later."
)

#: (platform account, livemode, connected account, key)
Slot = tuple[str, bool, str, str]
Fingerprint = tuple[str, str, str]


def slot(request: Request, key: str) -> Slot:
    return (request.platform, request.livemode, request.account, key)


def fingerprint(raw: RawRequest) -> Fingerprint:
    """What must be the same for a request to be a replay: method, path and parameters."""
    return (raw.method, raw.path, json.dumps(raw.params, sort_keys=True))


@dataclass
class Claim:
    """What an earlier request with the same key left: its fingerprint and its answer."""

    fingerprint: Fingerprint
    #: None while that request is still running.
    response: Response | None = None
    request_id: str = ""

    def answer(self, fingerprint: Fingerprint, key: str) -> Response:
        """The replayed answer for a later request, or the StripeError Stripe refuses it with."""
        if self.fingerprint != fingerprint:
            raise StripeError(400, IDEMPOTENCY_MISMATCH.format(key=key), type="idempotency_error")
        if self.response is None:
            raise StripeError(
                409,
                IDEMPOTENCY_IN_USE.format(key=key),
                type="idempotency_error",
                code="idempotency_key_in_use",
            )
        replay = copy.deepcopy(self.response)
        replay.headers["Original-Request"] = self.request_id
        replay.headers["Idempotent-Replayed"] = "true"
        return replay


class Ledger:
    """The keys seen, safe to use from the server's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._claims: dict[Slot, Claim] = {}

    def clear(self) -> None:
        with self._lock:
            self._claims.clear()

    def claim(self, slot: Slot, fingerprint: Fingerprint, request_id: str) -> Claim | None:
        """None when this request is the first with the key (it owns it now); else what the
        first left, as it is on arrival: a request in flight now is answered 409 even if it
        finishes while this one is still being delayed."""
        with self._lock:
            existing = self._claims.get(slot)
            if existing is None:
                self._claims[slot] = Claim(fingerprint, request_id=request_id)
                return None
            return copy.deepcopy(existing)

    def release(self, slot: Slot) -> None:
        """Forget the key: its request did not finish."""
        with self._lock:
            self._claims.pop(slot, None)

    def finish(self, slot: Slot, response: Response) -> None:
        """Keep ``response`` for replays, unless it is not one Stripe keeps."""
        with self._lock:
            claim = self._claims.get(slot)  # None: a reset forgot it meanwhile
            if response.status >= 500 or response.pre_execution:
                self._claims.pop(slot, None)
            elif claim is not None:
                claim.response = copy.deepcopy(response)
