"""Stripe-shaped errors (``errors.py``): the fields, their order, the dashboard link."""

from __future__ import annotations

import json

import pytest
import stripe

from customer_sessions.testing.errors import ParamError, StripeError, error_body, log_url

from .helpers import client_for, raw


def test_an_error_links_the_request_in_its_mode_and_account(fake):
    live = client_for(fake, fake.live_secret_key)

    with pytest.raises(stripe.InvalidRequestError) as in_test:
        client_for(fake).v1.customers.retrieve("cus_nobody000000")
    with pytest.raises(stripe.InvalidRequestError) as in_shop_live:
        live.v1.customers.retrieve("cus_nobody000000", options={"stripe_account": "acct_shop"})

    test_request, live_request = fake.requests
    assert in_test.value.error.request_log_url == (
        f"https://dashboard.stripe.com/test/logs/{test_request.request_id}"
        f"?t={int(test_request.time)}"
    )
    assert in_shop_live.value.error.request_log_url == (
        f"https://dashboard.stripe.com/acct_shop/logs/{live_request.request_id}"
        f"?t={int(live_request.time)}"
    )


def test_a_refused_key_has_no_dashboard_link(fake):
    status, _, body = raw(fake, "GET", "/v1/customers/cus_x", headers={"Authorization": "Bearer x"})

    assert status == 401
    assert list(json.loads(body)["error"]) == ["message", "type"]


def test_the_fields_in_stripes_order():
    error = ParamError("Invalid integer: x", param="balance", code="parameter_invalid_integer")

    body = error_body(error, request_log_url="https://dashboard.stripe.com/test/logs/req_1")

    assert list(body["error"].items()) == [
        ("code", "parameter_invalid_integer"),
        ("doc_url", "https://stripe.com/docs/error-codes/parameter-invalid-integer"),
        ("message", "Invalid integer: x"),
        ("param", "balance"),
        ("request_log_url", "https://dashboard.stripe.com/test/logs/req_1"),
        ("type", "invalid_request_error"),
    ]
    assert error.pre_execution is True
    assert StripeError(404, "No such customer").pre_execution is False
    assert log_url("req_1", 12.9, livemode=True, account="") == (
        "https://dashboard.stripe.com/logs/req_1?t=12"
    )
