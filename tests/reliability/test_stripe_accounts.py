"""A mapping belongs to the Stripe account that made it.

A key pointed at another Stripe account (a staging key pasted into production, a rotated
key of the wrong account) and back leaves every mapping as it was: a customer is replaced
only when Stripe confirms it deleted; one the account does not know at all is a
configuration error (``customer_not_in_account``) with a log line naming the account.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from django.test import Client

from customer_sessions.exceptions import CustomerNotInAccount, StripeMisconfigured
from customer_sessions.models import ReplacedStripeCustomer, StripeCustomer
from customer_sessions.services import (
    acreate_customer_session,
    create_customer_session,
    get_or_create_customer,
)

from ..factories import UserFactory

pytestmark = pytest.mark.django_db

SECRET = re.compile(r"cuss_secret_[A-Za-z0-9]+")


def use_keys(settings, secret: str, publishable: str) -> None:  # type: ignore[no-untyped-def]
    settings.CUSTOMER_SESSIONS = {
        **settings.CUSTOMER_SESSIONS,
        "SECRET_KEY": secret,
        "PUBLISHABLE_KEY": publishable,
        "MAX_NETWORK_RETRIES": 0,
    }


def mappings() -> dict[int, str]:
    return dict(StripeCustomer.objects.values_list("user_id", "customer_id"))


def test_another_accounts_key_and_back_leaves_every_mapping(fake_stripe, settings, caplog):
    users = UserFactory.create_batch(15)
    original = {u.pk: get_or_create_customer(u) for u in users}
    other = fake_stripe.other_account()

    use_keys(settings, other.secret_key, other.publishable_key)
    for user in users:
        with pytest.raises(CustomerNotInAccount) as info:
            create_customer_session(user)
        assert isinstance(info.value, StripeMisconfigured)
        assert info.value.code == "customer_not_in_account"
    assert mappings() == original
    assert [c for c in fake_stripe.customers if c.platform == other.id] == []
    assert not ReplacedStripeCustomer.objects.exists()
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    naming = [line for line in errors if other.id in line and "does not have customer" in line]
    assert len(naming) == 15
    assert all(fake_stripe.account_id not in line for line in naming)
    # Stripe was asked which account the key belongs to once, not once per user.
    assert len(fake_stripe.requests_to("GET", "/v1/account")) == 1

    use_keys(settings, fake_stripe.secret_key, fake_stripe.publishable_key)
    for user in users:
        assert create_customer_session(user).customer == original[user.pk]
    assert mappings() == original
    assert len(fake_stripe.customers) == 15


def test_the_endpoint_and_the_tag_refuse_clearly_and_keep_the_mapping(
    fake_stripe, settings, caplog
):
    user = UserFactory()
    customer = get_or_create_customer(user)
    other = fake_stripe.other_account()
    use_keys(settings, other.secret_key, other.publishable_key)
    client = Client()
    client.force_login(user)

    answer = client.post("/api/customer-session/")
    assert answer.status_code == 500
    assert answer.json()["code"] == "customer_not_in_account"
    page = client.get("/checkout/")
    assert page.status_code == 200
    assert not SECRET.search(page.content.decode())
    assert mappings() == {user.pk: customer}


@pytest.mark.django_db(transaction=True)
def test_the_async_api_keeps_the_mapping_too(fake_stripe, settings):
    user = UserFactory()
    customer = get_or_create_customer(user)
    other = fake_stripe.other_account()
    use_keys(settings, other.secret_key, other.publishable_key)

    with pytest.raises(CustomerNotInAccount):
        asyncio.run(acreate_customer_session(user))
    assert mappings() == {user.pk: customer}

    use_keys(settings, fake_stripe.secret_key, fake_stripe.publishable_key)
    assert asyncio.run(acreate_customer_session(user)).customer == customer


def test_a_user_first_seen_under_the_wrong_key_is_refused_once_it_is_put_back(
    fake_stripe, settings
):
    """The one thing the wrong key does make: customers for users who had none yet."""
    other = fake_stripe.other_account()
    use_keys(settings, other.secret_key, other.publishable_key)
    newcomer = UserFactory()
    made_there = create_customer_session(newcomer).customer
    assert [c.platform for c in fake_stripe.customers] == [other.id]

    use_keys(settings, fake_stripe.secret_key, fake_stripe.publishable_key)
    with pytest.raises(CustomerNotInAccount):
        create_customer_session(newcomer)
    assert mappings() == {newcomer.pk: made_there}


def test_a_deletion_stripe_confirms_is_replaced(fake_stripe):
    user = UserFactory()
    old = get_or_create_customer(user)
    fake_stripe.delete_customer(old)  # in the dashboard: retrieving it says deleted: true

    new = create_customer_session(user).customer

    assert new != old
    [record] = ReplacedStripeCustomer.objects.all()
    assert (record.customer_id, record.reason) == (old, "deleted")


def test_a_customer_the_account_never_heard_of_is_kept_until_verify_fix(fake_stripe):
    from django.core.management import call_command

    user = UserFactory()
    old = get_or_create_customer(user)
    fake_stripe.erase_customer(old)  # "delete all test data": 404 on retrieve

    with pytest.raises(CustomerNotInAccount):
        create_customer_session(user)
    assert mappings() == {user.pk: old}

    call_command("customer_sessions_verify", "--fix", "--rate", "1000")
    new = create_customer_session(user).customer
    assert new != old
    [record] = ReplacedStripeCustomer.objects.all()
    assert (record.customer_id, record.reason) == (old, "missing")


def test_a_key_that_may_not_read_its_account_still_gets_a_clear_error(
    fake_stripe, settings, caplog
):
    user = UserFactory()
    get_or_create_customer(user)
    other = fake_stripe.other_account()
    use_keys(settings, other.secret_key, other.publishable_key)
    fake_stripe.fail_next(403, path="/v1/account")

    with pytest.raises(CustomerNotInAccount):
        create_customer_session(user)
    assert any("may not read" in r.getMessage() for r in caplog.records)
