"""Faults on request (``faults.py``): fail, delay, drop and garble the next requests."""

from __future__ import annotations

import time
from typing import Any

import pytest
import stripe

from .helpers import PAYMENT_ELEMENT, client_for, run_together


def test_delay_lets_concurrent_creates_overlap(fake):
    fake.honour_idempotency = False
    fake.delay(0.3, path="/v1/customers", method="POST")
    clients = [client_for(fake) for _ in range(5)]
    started = time.monotonic()
    run_together(5, lambda i: clients[i].v1.customers.create())
    assert time.monotonic() - started < 1.2
    assert len(fake.customers) == 5


def test_fail_next_500(fake, client):
    fake.fail_next(500)
    with pytest.raises(stripe.APIError) as info:
        client.v1.customers.create()
    assert info.value.http_status == 500
    assert info.value.error.type == "api_error"
    assert fake.customers == []
    assert client.v1.customers.create()
    assert [r.status for r in fake.requests] == [500, 200]


def test_fail_next_429_with_headers(fake, client):
    fake.fail_next(429, headers={"Retry-After": "7"}, path="/v1/customer_sessions")
    customer = client.v1.customers.create()
    with pytest.raises(stripe.RateLimitError) as info:
        client.v1.customer_sessions.create(
            params={"customer": customer.id, "components": PAYMENT_ELEMENT}
        )
    assert info.value.http_status == 429
    assert info.value.error.code == "rate_limit"
    assert info.value.headers["Retry-After"] == "7"


@pytest.mark.parametrize(
    ("status", "exception"),
    [
        (401, stripe.AuthenticationError),
        (402, stripe.CardError),
        (403, stripe.PermissionError),
        (503, stripe.APIError),
    ],
)
def test_fail_next_other_statuses(client, fake, status, exception):
    fake.fail_next(status)
    with pytest.raises(exception) as info:
        client.v1.customers.create()
    assert info.value.http_status == status


def test_fail_next_custom_error_times_and_method(fake, client):
    customer = client.v1.customers.create()
    fake.fail_next(
        400,
        error={"type": "invalid_request_error", "code": "custom", "message": "Nope."},
        times=None,
        method="GET",
    )
    for _ in range(3):
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.customers.retrieve(customer.id)
        assert (info.value.code, info.value.user_message) == ("custom", "Nope.")
    assert client.v1.customers.create()  # POSTs are untouched
    fake.clear_faults()
    assert client.v1.customers.retrieve(customer.id).id == customer.id


def test_retries_after_500_reuse_the_idempotency_key(fake):
    fake.fail_next(500, path="/v1/customers")
    customer = client_for(fake, retries=2).v1.customers.create(params={"email": "r@example.com"})
    attempts = fake.requests_to("POST", "/v1/customers")
    assert [r.status for r in attempts] == [500, 200]
    assert attempts[0].idempotency_key is not None
    assert attempts[0].idempotency_key == attempts[1].idempotency_key
    assert [c["id"] for c in fake.customers] == [customer.id]


def test_stripe_should_retry_false_stops_retries(fake):
    fake.fail_next(503, headers={"Stripe-Should-Retry": "false"})
    with pytest.raises(stripe.APIError):
        client_for(fake, retries=2).v1.customers.create()
    assert len(fake.requests) == 1


def test_drop_next(fake, client):
    fake.drop_next(path="/v1/customers")
    with pytest.raises(stripe.APIConnectionError):
        client.v1.customers.create()
    assert fake.customers == []
    assert fake.requests[0].status is None
    assert client.v1.customers.create()


def test_drop_mid_response_then_replay(fake, client):
    fake.drop_next(mid_response=True)
    options: Any = {"idempotency_key": "lost-answer"}
    with pytest.raises(stripe.APIConnectionError):
        client.v1.customers.create(options=options)
    assert len(fake.customers) == 1  # it was created; only the answer was lost
    again = client.v1.customers.create(options=options)
    assert again.id == fake.customers[0]["id"]
    assert [(r.status, r.replayed) for r in fake.requests] == [(None, False), (200, True)]


def test_delay_past_the_client_timeout(fake):
    fake.delay(1.0, times=1)
    with pytest.raises(stripe.APIConnectionError):
        client_for(fake, timeout=0.3).v1.customers.create()
    assert client_for(fake, timeout=0.3).v1.customers.create()

    # The request the client gave up on is still executed, as on Stripe; waited for here
    # so that it is not recorded in a later test.
    deadline = time.monotonic() + 5
    while len(fake.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [r.status for r in fake.requests] == [200, 200]
    assert len(fake.customers) == 2


def test_malformed_next(fake, client):
    fake.malformed_next()
    with pytest.raises(stripe.APIError) as info:
        client.v1.customers.create()
    assert info.value.http_status == 200
    assert "Invalid response body" in str(info.value)


@pytest.mark.parametrize(
    ("status", "code", "type_"),
    [
        (404, "resource_missing", "invalid_request_error"),
        (409, "lock_timeout", "invalid_request_error"),
        (402, "card_declined", "card_error"),
        (418, None, "invalid_request_error"),
    ],
)
def test_an_injected_status_gets_the_error_stripe_sends_with_it(fake, client, status, code, type_):
    fake.fail_next(status)

    with pytest.raises(stripe.StripeError) as info:
        client.v1.customers.create()

    assert (info.value.http_status, info.value.error.code) == (status, code)
    assert info.value.error.type == type_
    assert info.value.error.request_log_url.startswith("https://dashboard.stripe.com/test/logs/")


def test_a_fault_matches_its_path_prefix_and_method_only(fake, client):
    fake.fail_next(503, path="/v1/customer_sessions", method="post", times=2)

    customer = client.v1.customers.create()
    client.v1.customers.retrieve(customer.id)
    for _ in range(2):
        with pytest.raises(stripe.APIError):
            client.v1.customer_sessions.create(
                params={"customer": customer.id, "components": PAYMENT_ELEMENT}
            )
    assert client.v1.customer_sessions.create(
        params={"customer": customer.id, "components": PAYMENT_ELEMENT}
    )
    assert [r.status for r in fake.requests] == [200, 200, 503, 503, 200]
