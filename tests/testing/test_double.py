"""FakeStripe itself (``double.py``): seeding without HTTP, reset, start and stop."""

from __future__ import annotations

import time

import pytest
import stripe

from customer_sessions.testing import FakeStripe

from .helpers import client_for


def test_seeding_without_http(fake, client):
    seeded = fake.create_customer(email="seed@example.com", metadata={"k": "v"})
    assert client.v1.customers.retrieve(seeded["id"]).email == "seed@example.com"
    fake.delete_customer(seeded["id"])
    assert client.v1.customers.retrieve(seeded["id"]).deleted is True
    assert fake.requests_to("GET", "/v1/customers/") == fake.requests


def test_reset_keeps_the_port(fake):
    url = fake.url
    fake.create_customer()
    fake.fail_next(500)
    fake.reset()
    assert fake.url == url
    assert fake.customers == fake.requests == []
    assert client_for(fake).v1.customers.create()


def test_a_request_given_up_on_before_a_reset_leaves_nothing_after_it(fake):
    # A test whose client timed out on a delayed answer, then the next test's reset: the
    # abandoned request must not land in the next test's records or objects, even once
    # its delay would have run out.
    fake.delay(1.5, path="/v1/customers")
    started = time.monotonic()
    with pytest.raises(stripe.APIConnectionError):
        client_for(fake, timeout=0.3).v1.customers.create()

    fake.reset()
    customer = client_for(fake).v1.customers.create()
    time.sleep(max(0.0, started + 2.0 - time.monotonic()))

    assert [c["id"] for c in fake.customers] == [customer.id]
    assert [(r.method, r.path, r.status) for r in fake.requests] == [("POST", "/v1/customers", 200)]


def test_stop_and_context_manager():
    with FakeStripe() as fake:
        url = fake.url
        assert fake.secret_key.startswith("sk_test_fake_")
        assert fake.live_secret_key.startswith("sk_live_fake_")
        assert fake.publishable_key.startswith("pk_test_")
        client_for(fake).v1.customers.create()
    with pytest.raises(stripe.APIConnectionError):
        stripe.StripeClient(
            "sk_test_x", base_addresses={"api": url}, max_network_retries=0
        ).v1.customers.create()
