"""What the double holds: Stripe objects by namespace, in creation order, and Customer Sessions.

A namespace is (platform account, mode, connected account): an object is found only from
its own, as on Stripe, where another mode's or another account's key answers "No such …".
Objects are kept as copies and handed out as copies; resources change a stored object
only while holding :attr:`Store.lock`.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Any

from .errors import StripeError
from .exchange import Namespace
from .records import StoredObject

__all__ = ["PREFIXES", "Store", "Stored"]

#: The id prefix of each kind of object, by the noun Stripe's "No such …" names it with.
PREFIXES = {
    "account": "acct_",
    "customer": "cus_",
    "payment_intent": "pi_",
    "setupintent": "seti_",
}


@dataclass
class Stored:
    """One object and where it lives; ``deleted`` as ``DELETE`` leaves a customer (and
    closing, an account); ``linked`` the customer id of a customer-configured account."""

    obj: dict[str, Any]
    livemode: bool
    account: str
    platform: str
    deleted: bool = False
    linked: str = ""

    @property
    def namespace(self) -> Namespace:
        return (self.platform, self.livemode, self.account)


class Store:
    """Objects by id (ids are unique across namespaces) and the Customer Sessions made."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self._objects: dict[str, Stored] = {}
            self._order: list[str] = []
            self._sessions: list[StoredObject] = []

    def add(self, obj: dict[str, Any], namespace: Namespace, *, linked: str = "") -> None:
        platform, livemode, account = namespace
        with self.lock:
            self._objects[obj["id"]] = Stored(
                copy.deepcopy(obj), livemode, account, platform, linked=linked
            )
            self._order.append(obj["id"])

    def find(
        self, namespace: Namespace, object_id: str, noun: str, *, param: str, status: int
    ) -> Stored:
        """The object ``object_id`` in ``namespace`` (deleted or not), or Stripe's
        "No such …" error, which says so when the object exists in the other mode."""
        with self.lock:
            stored = self._objects.get(object_id) if object_id.startswith(PREFIXES[noun]) else None
            if stored is not None and stored.namespace == namespace:
                return stored
        message = f"No such {noun}: '{object_id}'"
        platform, livemode, account = namespace
        if (
            stored is not None
            and (stored.platform, stored.account) == (platform, account)
            and stored.livemode != livemode
        ):
            have, used = ("live", "test") if stored.livemode else ("test", "live")
            message += (
                f"; a similar object exists in {have} mode, but a {used} mode key was used "
                "to make this request."
            )
        raise StripeError(status, message, code="resource_missing", param=param)

    def live(self, prefix: str) -> list[StoredObject]:
        """Copies of the objects whose id starts with ``prefix``, not deleted, oldest first."""
        with self.lock:
            return [
                StoredObject(s.obj, livemode=s.livemode, account=s.account, platform=s.platform)
                for oid in self._order
                if oid.startswith(prefix) and not (s := self._objects[oid]).deleted
            ]

    def delete_customer(self, customer_id: str) -> None:
        """Mark a customer deleted, in whichever namespace it lives (KeyError if none)."""
        with self.lock:
            stored = self._objects.get(customer_id)
            if stored is None or stored.deleted or not customer_id.startswith("cus_"):
                raise KeyError(customer_id)
            stored.deleted = True

    def close_account(self, account_id: str) -> dict[str, Any]:
        """Close an account, in whichever namespace it lives (KeyError if none, or closed)."""
        with self.lock:
            stored = self._objects.get(account_id)
            if stored is None or stored.deleted or not account_id.startswith("acct_"):
                raise KeyError(account_id)
            stored.deleted = True
            stored.obj["closed"] = True
            return copy.deepcopy(stored.obj)

    def erase(self, object_id: str) -> None:
        """Forget an object as if it had never existed (KeyError if unknown)."""
        with self.lock:
            if self._objects.pop(object_id, None) is None:
                raise KeyError(object_id)
            self._order.remove(object_id)

    def add_session(self, session: dict[str, Any], namespace: Namespace) -> None:
        platform, livemode, account = namespace
        with self.lock:
            self._sessions.append(
                StoredObject(session, livemode=livemode, account=account, platform=platform)
            )

    def sessions(self) -> list[StoredObject]:
        """Copies of the Customer Sessions made, oldest first."""
        with self.lock:
            return [
                StoredObject(s, livemode=s.livemode, account=s.account, platform=s.platform)
                for s in self._sessions
            ]
