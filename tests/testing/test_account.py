"""The account (``resources/account.py``): ``GET /v1/account`` for the key, or the connected one."""

from __future__ import annotations

import pytest
import stripe

from .helpers import client_for


def test_the_account_of_the_key(fake, client):
    other = fake.other_account()

    ours = client.v1.accounts.retrieve_current()
    theirs = client_for(fake, other.live_secret_key).v1.accounts.retrieve_current()

    assert (ours.id, ours.object, ours.type) == (fake.account_id, "account", "standard")
    assert ours.charges_enabled is True
    assert theirs.id == other.id


def test_the_connected_account_of_stripe_account(client):
    shop = client.v1.accounts.retrieve_current(options={"stripe_account": "acct_shop1"})

    assert (shop.id, shop.type) == ("acct_shop1", "custom")


def test_only_expand_is_taken(client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.accounts.retrieve_current(params={"bogus": "1"})  # type: ignore[typeddict-unknown-key]
    assert (info.value.code, info.value.param) == ("parameter_unknown", "bogus")
