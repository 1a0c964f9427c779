"""``Idempotency-Key`` (``idempotency.py``): replays, mismatches, keys in flight."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from customer_sessions.testing import FakeStripe

from .helpers import PAYMENT_ELEMENT, client_for, run_together


def test_idempotent_replay(fake, client):
    options: Any = {"idempotency_key": "user-5-customer"}
    first = client.v1.customers.create(params={"email": "a@example.com"}, options=options)
    again = client.v1.customers.create(params={"email": "a@example.com"}, options=options)
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.last_response.headers
    assert [r.replayed for r in fake.requests] == [False, True]
    assert len(fake.customers) == 1


def test_idempotency_key_with_other_params(fake, client):
    options: Any = {"idempotency_key": "k1"}
    client.v1.customers.create(params={"email": "a@example.com"}, options=options)
    with pytest.raises(stripe.IdempotencyError) as info:
        client.v1.customers.create(params={"email": "b@example.com"}, options=options)
    assert info.value.http_status == 400
    assert info.value.error.type == "idempotency_error"
    assert info.value.user_message == (
        "Keys for idempotent requests can only be used with the same parameters they were "
        "first used with. Try using a key other than 'k1' if you meant to execute a "
        "different request."
    )
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(options=options)  # no params is different too
    # …and so is another path.
    customer = client.v1.customers.create()
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customer_sessions.create(
            params={"customer": customer.id, "components": PAYMENT_ELEMENT}, options=options
        )


def test_idempotency_keys_are_per_mode_and_account(fake, client):
    options: Any = {"idempotency_key": "same"}
    a = client.v1.customers.create(options=options)
    b = client.v1.customers.create(options={**options, "stripe_account": "acct_x"})
    c = client_for(fake, fake.live_secret_key).v1.customers.create(options=options)
    assert len({a.id, b.id, c.id}) == 3


def test_validation_errors_are_not_remembered(fake, client):
    options: Any = {"idempotency_key": "fix-and-retry"}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.create(params={"email": ""}, options=options)
    assert client.v1.customers.create(params={"email": "ok@example.com"}, options=options)


def test_honour_idempotency_false_executes_every_post(fake, client):
    fake.honour_idempotency = False
    options: Any = {"idempotency_key": "ignored"}
    first = client.v1.customers.create(options=options)
    second = client.v1.customers.create(options=options)
    assert first.id != second.id
    assert len(fake.customers) == 2
    fake.reset()
    assert fake.honour_idempotency is True
    assert FakeStripe(honour_idempotency=False).honour_idempotency is False


def test_concurrent_requests_with_one_key_make_one_customer(fake):
    fake.delay(0.3, path="/v1/customers", method="POST")
    clients = [client_for(fake) for _ in range(4)]

    def create(i: int) -> str:
        options: Any = {"idempotency_key": "contended"}
        return str(clients[i].v1.customers.create(options=options).id)

    results = run_together(4, create)

    assert len(fake.customers) == 1
    winner = fake.customers[0]["id"]
    for result in results:
        if isinstance(result, Exception):
            assert isinstance(result, stripe.APIError)
            assert result.http_status == 409
            assert result.error.code == "idempotency_key_in_use"
            assert result.error.type == "idempotency_error"
        else:
            assert result == winner
    assert any(isinstance(result, Exception) for result in results)


def test_an_answer_after_execution_is_replayed_a_refused_request_is_not(fake, client):
    """Stripe keeps what a request did, failures included; not a request it refused unread."""
    options: Any = {"idempotency_key": "session-for-cus_later"}
    params: Any = {"customer": "cus_notyetmade000", "components": PAYMENT_ELEMENT}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customer_sessions.create(params=params, options=options)

    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.customer_sessions.create(params=params, options=options)

    assert again.value.code == "resource_missing"
    assert again.value.headers["Idempotent-Replayed"] == "true"
    assert again.value.headers["Original-Request"] == fake.requests[0].request_id
    assert [r.replayed for r in fake.requests] == [False, True]

    refused: Any = {"idempotency_key": "no-component"}
    bad: Any = {"customer": "cus_x", "components": {"buy_button": {"enabled": False}}}
    for _ in range(2):
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.customer_sessions.create(params=bad, options=refused)
    assert [r.replayed for r in fake.requests][2:] == [False, False]
