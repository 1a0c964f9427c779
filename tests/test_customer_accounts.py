"""``CUSTOMER_OBJECT = "account"``: sessions and the mapping with customer-configured Accounts.

Both twins, through stripe-python's real HTTP stack against the double: a user's first
session makes one Accounts v2 Account (never a v1 Customer), every session is made with
``customer_account``, a closed account is replaced as a deleted customer is, and users
mapped before the switch keep what they have.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync

from customer_sessions.exceptions import CustomerNotInAccount
from customer_sessions.models import CustomerObject, ReplacedStripeCustomer, StripeCustomer
from customer_sessions.services import (
    acreate_customer_session,
    create_customer_session,
    get_or_create_customer,
)

from .conftest import customer_creates, session_creates
from .factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

Create = Callable[..., Any]


def account_creates(fake: Any) -> int:
    return len(fake.requests_to("POST", "/v2/core/accounts"))


@pytest.fixture
def account_mode(settings: Any) -> None:
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "CUSTOMER_OBJECT": "account"}


@pytest.fixture(params=["sync", "async"])
def create(request: pytest.FixtureRequest) -> Create:
    if request.param == "sync":
        return create_customer_session
    return async_to_sync(acreate_customer_session)


def test_a_first_session_makes_one_account_and_no_customer(fake_stripe, account_mode, create, user):
    sessions = [create(user) for _ in range(3)]

    assert account_creates(fake_stripe) == 1 and customer_creates(fake_stripe) == 0
    (account,) = fake_stripe.accounts
    assert account["applied_configurations"] == ["customer"]
    assert account["contact_email"] == user.email
    assert account["metadata"] == {"django_user_id": str(user.pk)}
    row = StripeCustomer.objects.get(user=user)
    assert (row.customer_id, row.customer_object) == (account["id"], CustomerObject.ACCOUNT)
    assert row.account == ""  # the Connect column stays the platform's
    for session in sessions:
        assert session.customer_account == account["id"]
        assert session.customer.startswith("cus_")
    sent = [r.params for r in fake_stripe.requests_to("POST", "/v1/customer_sessions")]
    assert all(p["customer_account"] == account["id"] and "customer" not in p for p in sent)
    created = fake_stripe.requests_to("POST", "/v2/core/accounts")[0]
    assert created.headers["content-type"] == "application/json"
    assert created.idempotency_key == row.idempotency_key


def test_the_account_key_is_derived_so_a_lost_answer_is_replayed(
    fake_stripe, account_mode, create, user, settings
):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "MAX_NETWORK_RETRIES": 0}
    fake_stripe.drop_next(path="/v2/core/accounts", mid_response=True)
    with pytest.raises(Exception):  # noqa: B017, PT011 - StripeUnavailable, as for customers
        create(user)
    assert StripeCustomer.objects.get(user=user).customer_id == ""

    session = create(user)

    assert len(fake_stripe.accounts) == 1
    assert session.customer_account == fake_stripe.accounts[0]["id"]
    keys = {r.idempotency_key for r in fake_stripe.requests_to("POST", "/v2/core/accounts")}
    assert len(keys) == 1 and fake_stripe.requests_to("POST", "/v2/core/accounts")[-1].replayed


def test_concurrent_first_sessions_in_one_loop_make_one_account(fake_stripe, account_mode):
    user = UserFactory()
    fake_stripe.delay(0.2, path="/v2/core/accounts")

    async def many() -> list[Any]:
        return await asyncio.gather(*(acreate_customer_session(user) for _ in range(6)))

    sessions = async_to_sync(many)()

    assert account_creates(fake_stripe) == 1
    assert {s.customer_account for s in sessions} == {fake_stripe.accounts[0]["id"]}


def test_a_closed_account_is_replaced_once_and_recorded(fake_stripe, account_mode, create, user):
    old = get_or_create_customer(user)
    fake_stripe.close_account(old)

    session = create(user)

    assert session.customer_account not in (None, old)
    record = ReplacedStripeCustomer.objects.get(user=user)
    assert (record.customer_id, record.reason, record.customer_object) == (
        old,
        "deleted",
        CustomerObject.ACCOUNT,
    )
    # Stripe was asked what became of the account (v2) before it was replaced.
    assert [r.path for r in fake_stripe.requests_to("GET")] == [f"/v2/core/accounts/{old}"]
    assert StripeCustomer.objects.get(user=user).customer_id == session.customer_account


def test_an_account_unknown_to_stripe_is_a_configuration_error(
    fake_stripe, account_mode, create, user
):
    old = get_or_create_customer(user)
    fake_stripe.erase_account(old)

    with pytest.raises(CustomerNotInAccount):
        create(user)

    assert StripeCustomer.objects.get(user=user).customer_id == old  # kept
    assert not ReplacedStripeCustomer.objects.exists()
    assert account_creates(fake_stripe) == 1


def test_users_mapped_to_customers_keep_them_after_the_switch(fake_stripe, create, user, settings):
    before = create_customer_session(user)
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "CUSTOMER_OBJECT": "account"}
    newcomer = UserFactory()

    kept = create(user)
    made = create(newcomer)

    assert kept.customer == before.customer and kept.customer_account is None
    assert made.customer_account is not None
    assert account_creates(fake_stripe) == 1 and customer_creates(fake_stripe) == 1
    kinds = dict(StripeCustomer.objects.values_list("user_id", "customer_object"))
    assert kinds == {user.pk: "customer", newcomer.pk: "account"}


def test_a_replaced_customer_becomes_an_account_after_the_switch(
    fake_stripe, create, user, settings
):
    old = get_or_create_customer(user)
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "CUSTOMER_OBJECT": "account"}
    fake_stripe.delete_customer(old)

    session = create(user)

    assert session.customer_account == fake_stripe.accounts[0]["id"]
    row = StripeCustomer.objects.get(user=user)
    assert row.customer_object == CustomerObject.ACCOUNT
    record = ReplacedStripeCustomer.objects.get(user=user)
    assert (record.customer_id, record.customer_object) == (old, CustomerObject.CUSTOMER)


def test_a_customer_account_is_not_the_connect_account(fake_stripe, account_mode, create, user):
    connected = "acct_1Connected000000"

    session = create(user, account=connected)

    row = StripeCustomer.objects.get(user=user)
    assert row.account == connected
    assert row.customer_id == session.customer_account != connected
    (made,) = fake_stripe.accounts
    assert made.account == connected  # made on the connected account, as customers are
    assert session_creates(fake_stripe) == 1
    assert fake_stripe.customer_sessions[0].account == connected


def test_a_site_chooses_the_account_parameters(fake_stripe, create, user, settings):
    def params(user: Any) -> dict[str, Any]:
        return {"display_name": f"Member {user.pk}", "configuration": {"customer": {}}}

    settings.CUSTOMER_SESSIONS = {
        **settings.CUSTOMER_SESSIONS,
        "CUSTOMER_OBJECT": "account",
        "ACCOUNT_PARAMS": params,
    }

    create(user)

    assert fake_stripe.accounts[0]["display_name"] == f"Member {user.pk}"


def test_a_claim_left_pending_before_the_switch_makes_an_account_with_a_key_of_its_own(
    fake_stripe, create, user, settings
):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "MAX_NETWORK_RETRIES": 0}
    fake_stripe.drop_next(path="/v1/customers")  # the first attempt never reaches Stripe
    with pytest.raises(Exception):  # noqa: B017, PT011 - StripeUnavailable
        create_customer_session(user)
    pending = StripeCustomer.objects.get(user=user)
    assert (pending.customer_id, pending.customer_object) == ("", CustomerObject.CUSTOMER)
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "CUSTOMER_OBJECT": "account"}

    session = create(user)

    row = StripeCustomer.objects.get(user=user)
    assert row.customer_object == CustomerObject.ACCOUNT
    assert row.customer_id == session.customer_account == fake_stripe.accounts[0]["id"]
    assert row.idempotency_key != pending.idempotency_key
    (sent,) = fake_stripe.requests_to("POST", "/v2/core/accounts")
    assert sent.idempotency_key == row.idempotency_key
    assert fake_stripe.customers == []
