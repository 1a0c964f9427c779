"""API keys (``auth.py``): missing, malformed, publishable, revoked, restricted."""

from __future__ import annotations

import base64
import json

import pytest
import stripe

from customer_sessions.testing.auth import api_key_from, mask_key

from .helpers import client_for, raw


def test_no_api_key(fake):
    status, headers, body = raw(fake, "POST", "/v1/customers", "email=a%40b.c")
    assert status == 401
    assert headers["request-id"].startswith("req_")
    error = json.loads(body)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("You did not provide an API key.")
    assert fake.customers == []


@pytest.mark.parametrize(
    "key", ["sk_test_abcd efgh1234", "not_a_key_1234", "sk_prod_12345678", "pk_test_12345678"]
)
def test_bad_keys(fake, key):
    with pytest.raises(stripe.AuthenticationError) as info:
        client_for(fake, key).v1.customers.create()
    assert info.value.http_status == 401
    assert info.value.error.type == "invalid_request_error"
    if key.startswith("pk_"):
        assert "publishable API key" in info.value.user_message
    else:
        assert info.value.user_message.startswith("Invalid API Key provided: ")
        assert info.value.user_message.endswith(key[-4:])
        assert key not in info.value.user_message
    assert fake.customers == []


def test_revoked_key(fake):
    client = client_for(fake)
    client.v1.customers.create()
    fake.revoked_keys.add(fake.secret_key)
    with pytest.raises(stripe.AuthenticationError) as info:
        client.v1.customers.create()
    masked = "sk_test_" + "*" * (len(fake.secret_key) - 12) + fake.secret_key[-4:]
    assert info.value.user_message == f"Invalid API Key provided: {masked}"
    assert len(fake.customers) == 1


def test_restricted_keys_are_accepted(fake):
    customer = client_for(fake, "rk_live_restricted123").v1.customers.create()
    assert customer.livemode is True


def test_a_key_sent_as_curl_sends_it_is_accepted(fake):
    """``curl -u sk_test_…:`` sends the key as HTTP Basic user name, as Stripe's docs show."""
    basic = base64.b64encode(f"{fake.secret_key}:".encode()).decode()

    status, _, body = raw(fake, "POST", "/v1/customers", "", {"Authorization": f"Basic {basic}"})

    assert status == 200
    assert fake.requests[0].api_key == fake.secret_key
    assert json.loads(body)["livemode"] is False


@pytest.mark.parametrize(
    ("header", "key"),
    [
        (None, None),
        ("Bearer sk_test_abc", "sk_test_abc"),
        ("bearer  sk_test_abc ", "sk_test_abc"),
        ("Bearer ", None),
        ("Basic " + base64.b64encode(b"rk_live_x:ignored").decode(), "rk_live_x"),
        ("Basic not-base64!", "not-base64!"),
        ("sk_test_bare", "sk_test_bare"),
    ],
)
def test_the_key_in_an_authorization_header(header, key):
    assert api_key_from(header) == key


@pytest.mark.parametrize(
    ("key", "masked"),
    [
        ("sk_test_abcdefgh1234", "sk_test_********1234"),
        ("rk_live_1234", "rk_live_****"),
        ("whatever", "****ever"),
    ],
)
def test_a_key_is_shown_by_its_prefix_and_last_four_characters(key, masked):
    assert mask_key(key) == masked
