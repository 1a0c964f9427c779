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


def test_another_accounts_keys_see_only_its_own_objects(fake, client):
    other = fake.other_account()
    theirs = client_for(fake, other.secret_key).v1.customers.create()
    ours = client.v1.customers.create()

    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.retrieve(theirs.id)
    assert info.value.user_message == f"No such customer: '{theirs.id}'"  # no "other mode" hint
    with pytest.raises(stripe.InvalidRequestError):
        client_for(fake, other.live_secret_key).v1.customers.retrieve(theirs.id)
    assert client_for(fake, other.secret_key).v1.customers.retrieve(theirs.id).id == theirs.id
    assert {c["id"]: c.platform for c in fake.customers} == {
        theirs.id: other.id,
        ours.id: fake.account_id,
    }
    assert fake.platform_of(other.live_secret_key) == other.id
    assert fake.platform_of("sk_test_anything") == fake.account_id


def test_other_accounts_outlive_a_reset(fake):
    other = fake.other_account()
    fake.reset()

    customer = client_for(fake, other.secret_key).v1.customers.create()

    assert fake.customers[0]["id"] == customer.id
    assert fake.customers[0].platform == other.id


def test_an_erased_customer_is_unknown_not_deleted(fake, client):
    customer = client.v1.customers.create()
    fake.erase_customer(customer.id)

    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.retrieve(customer.id)
    assert (info.value.http_status, info.value.code) == (404, "resource_missing")
    assert fake.customers == []
    with pytest.raises(KeyError):
        fake.erase_customer(customer.id)


def test_a_customer_is_deleted_once(fake):
    customer = fake.create_customer(account="acct_shop")

    assert fake.delete_customer(customer["id"]) == {
        "id": customer["id"],
        "object": "customer",
        "deleted": True,
    }
    with pytest.raises(KeyError):
        fake.delete_customer(customer["id"])
    with pytest.raises(KeyError):
        fake.delete_customer("cus_neverexisted0")
