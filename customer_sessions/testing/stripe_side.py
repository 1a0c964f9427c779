"""What Stripe holds, read and changed without HTTP, as a test or the dashboard would.

Mixed into :class:`~customer_sessions.testing.double.FakeStripe`: the objects the double
stores (customers, accounts, sessions, intents), and seeding them (create, delete, close,
erase) with the same validation as the HTTP routes.
"""

from __future__ import annotations

from typing import Any

from .encoding import encode, parse_form
from .errors import ParamError
from .records import StoredObject
from .resources.accounts import new_account
from .resources.customers import new_customer
from .store import Store
from .validation import validate

__all__ = ["StripeSide"]


class StripeSide:
    """Inspection and seeding of the objects in :attr:`_store`."""

    _store: Store
    #: The Stripe account every well-formed key belongs to (set by FakeStripe).
    account_id: str

    @property
    def customers(self) -> list[StoredObject]:
        """Customers not deleted, in every mode and account, oldest first."""
        return self._store.live("cus_")

    @property
    def accounts(self) -> list[StoredObject]:
        """Accounts v2 (customer-configured ones among them) not closed, in every mode and
        connected account, oldest first, as stored: ``configuration`` in full."""
        return self._store.live("acct_")

    @property
    def customer_sessions(self) -> list[StoredObject]:
        return self._store.sessions()

    @property
    def payment_intents(self) -> list[StoredObject]:
        return self._store.live("pi_")

    @property
    def setup_intents(self) -> list[StoredObject]:
        return self._store.live("seti_")

    # --- seeding ----------------------------------------------------------------------

    def create_customer(
        self, *, livemode: bool = False, account: str = "", platform: str = "", **params: Any
    ) -> StoredObject:
        """A customer made without HTTP; ``params`` as stripe-python would send them.

        ``platform``: the Stripe account (default :attr:`account_id`).
        """
        try:
            clean = validate("PostCustomers", parse_form(encode(params)))
        except ParamError as exc:
            raise ValueError(exc.message) from None
        platform = platform or self.account_id
        obj = new_customer(self._store, (platform, livemode, account), clean)
        return StoredObject(obj, livemode=livemode, account=account, platform=platform)

    def delete_customer(self, customer_id: str) -> dict[str, Any]:
        """Delete as ``DELETE /v1/customers/{id}`` would, in whichever namespace it lives."""
        self._store.delete_customer(customer_id)
        return {"id": customer_id, "object": "customer", "deleted": True}

    def create_account(
        self, *, livemode: bool = False, account: str = "", platform: str = "", **params: Any
    ) -> StoredObject:
        """An Accounts v2 account made without HTTP; ``params`` as the JSON body of
        ``POST /v2/core/accounts`` (``configuration={"customer": {}}`` for a customer)."""
        try:
            clean = validate("V2CoreAccountsCreate", params)
        except ParamError as exc:
            raise ValueError(exc.message) from None
        platform = platform or self.account_id
        obj = new_account(self._store, (platform, livemode, account), clean)
        return StoredObject(obj, livemode=livemode, account=account, platform=platform)

    def close_account(self, account_id: str) -> dict[str, Any]:
        """Close as ``POST /v2/core/accounts/{id}/close`` would, in whichever namespace it
        lives; retrieving it then answers ``closed: true``."""
        return self._store.close_account(account_id)

    def erase_account(self, account_id: str) -> None:
        """Remove an account as if it had never existed: retrieving it then answers 404."""
        self._store.erase(account_id)

    def erase_customer(self, customer_id: str) -> None:
        """Remove a customer as if it had never existed (Stripe's "delete all test data"):
        retrieving it then answers 404, not ``deleted: true``."""
        self._store.erase(customer_id)
