"""The double's write limit (``rate_limits.py``): 429 ``rate_limit`` past N writes a second."""

from __future__ import annotations

import time

import pytest
import stripe

from .helpers import client_for


def test_writes_past_the_limit_are_refused_unexecuted_and_reads_are_not_counted(fake, client):
    fake.limit_writes(3)
    made = [client.v1.customers.create() for _ in range(3)]
    client.v1.customers.retrieve(made[0].id)  # a read: not a write

    with pytest.raises(stripe.RateLimitError) as info:
        client.v1.customers.create(options={"idempotency_key": "k-4"})

    assert (info.value.http_status, info.value.error.code) == (429, "rate_limit")
    assert len(fake.customers) == 3  # nothing was executed
    time.sleep(1.05)
    # Not kept for idempotency: the same key, once the second is over, makes the customer.
    fourth = client.v1.customers.create(options={"idempotency_key": "k-4"})
    assert [c["id"] for c in fake.customers] == [*(c.id for c in made), fourth.id]
    assert [r.status for r in fake.requests_to("POST")] == [200, 200, 200, 429, 200]


def test_the_limit_is_per_account_and_mode_and_lifted_by_none_and_reset(fake, client):
    fake.limit_writes(1)
    other = client_for(fake, fake.other_account().secret_key)
    live = client_for(fake, fake.live_secret_key)
    client.v1.customers.create()
    other.v1.customers.create()
    live.v1.customers.create()
    with pytest.raises(stripe.RateLimitError):
        client.v1.customers.create()

    fake.limit_writes(None)
    client.v1.customers.create()
    fake.limit_writes(1)
    fake.reset()
    client.v1.customers.create()
    client.v1.customers.create()


def test_a_limit_below_one_is_refused(fake):
    with pytest.raises(ValueError, match="positive"):
        fake.limit_writes(0)
