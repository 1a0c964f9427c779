"""The double's own tests: one double per test module, reset for each test.

Driven only through stripe-python, and raw HTTP where it cannot go.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from customer_sessions.testing import FakeStripe

from .helpers import client_for


@pytest.fixture(scope="module")
def server() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeStripe) -> FakeStripe:
    server.reset()
    return server


@pytest.fixture
def client(fake: FakeStripe) -> stripe.StripeClient:
    return client_for(fake)
