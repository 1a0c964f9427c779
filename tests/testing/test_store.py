"""What the double holds (``store.py``): objects by mode, connected account and platform account."""

from __future__ import annotations

import pytest
import stripe

from .helpers import client_for


def test_customer_of_the_other_mode_says_so(fake, client):
    live = client_for(fake, fake.live_secret_key)
    live_customer = live.v1.customers.create(params={"email": "live@example.com"})
    assert live_customer.livemode is True
    test_customer = client.v1.customers.create()

    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.retrieve(live_customer.id)
    assert info.value.user_message == (
        f"No such customer: '{live_customer.id}'; a similar object exists in live mode, "
        "but a test mode key was used to make this request."
    )
    with pytest.raises(stripe.InvalidRequestError) as info:
        live.v1.customers.retrieve(test_customer.id)
    assert info.value.http_status == 404
    assert info.value.user_message == (
        f"No such customer: '{test_customer.id}'; a similar object exists in test mode, "
        "but a live mode key was used to make this request."
    )
    assert {(c["id"], c.livemode) for c in fake.customers} == {
        (live_customer.id, True),
        (test_customer.id, False),
    }


def test_connected_accounts_are_separate(fake, client):
    on_platform = client.v1.customers.create()
    in_shop = client.v1.customers.create(options={"stripe_account": "acct_shop1"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.retrieve(in_shop.id)
    assert info.value.user_message == f"No such customer: '{in_shop.id}'"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.retrieve(on_platform.id, options={"stripe_account": "acct_shop2"})
    assert client.v1.customers.retrieve(in_shop.id, options={"stripe_account": "acct_shop1"})
    assert {c["id"]: c.account for c in fake.customers} == {
        on_platform.id: "",
        in_shop.id: "acct_shop1",
    }
    assert fake.requests[1].stripe_account == "acct_shop1"
