"""A Stripe double for tests: a real HTTP server that stripe-python talks to unchanged.

    from customer_sessions.testing import FakeStripe

    with FakeStripe() as fake:
        client = stripe.StripeClient(fake.secret_key, base_addresses={"api": fake.url})
        customer = client.v1.customers.create(params={"email": "a@example.com"})
        assert fake.customers[0]["id"] == customer.id

With pytest, use the ``fake_stripe`` fixture of the bundled plugin instead
(:mod:`customer_sessions.testing.pytest_plugin`); it also points ``CUSTOMER_SESSIONS`` at
the double when Django is configured.
"""

from .double import FakeStripe
from .records import FakeAccount, RecordedRequest, StoredObject

__all__ = ["FakeAccount", "FakeStripe", "RecordedRequest", "StoredObject"]
