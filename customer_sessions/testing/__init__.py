"""A Stripe double for tests: a real HTTP server that stripe-python talks to unchanged.

    from customer_sessions.testing import FakeStripe

    with FakeStripe() as fake:
        client = stripe.StripeClient(fake.secret_key, base_addresses={"api": fake.url})
        customer = client.v1.customers.create(params={"email": "a@example.com"})
        assert fake.customers[0]["id"] == customer.id

With pytest, use the ``fake_stripe`` fixture of the bundled plugin instead
(:mod:`customer_sessions.testing.pytest_plugin`); it also points ``CUSTOMER_SESSIONS`` at
the double when Django is configured.

The double needs jsonschema (the package's ``testing`` extra). :class:`FakeStripe` is
imported on first use, so this package, and the pytest plugin in it, load without it:
pytest loads the plugin in every project that installed the package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .records import FakeAccount, RecordedRequest, StoredObject

if TYPE_CHECKING:
    from .double import FakeStripe

__all__ = ["FakeAccount", "FakeStripe", "RecordedRequest", "StoredObject"]


def __getattr__(name: str) -> Any:
    if name == "FakeStripe":
        from .double import FakeStripe

        return FakeStripe
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
