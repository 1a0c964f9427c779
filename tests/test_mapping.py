"""The user → customer mapping: one customer per user, mode and account, made exactly once
(the idempotency key, the claim and its lock), and replaced only as the rules say."""

from __future__ import annotations

import pytest

from customer_sessions.exceptions import (
    CustomerConflict,
    StripeMisconfigured,
    StripeUnavailable,
    TooManyReplacements,
)
from customer_sessions.models import Mode, ReplacedStripeCustomer, StripeCustomer
from customer_sessions.services import (
    create_customer_session,
    forget_customer,
    get_or_create_customer,
)

from .conftest import customer_creates, session_creates
from .factories import UserFactory

pytestmark = pytest.mark.django_db


def test_test_and_live_customers_are_kept_apart(fake_stripe, user, settings):
    test_session = create_customer_session(user)
    settings.CUSTOMER_SESSIONS = {
        **settings.CUSTOMER_SESSIONS,
        "SECRET_KEY": fake_stripe.live_secret_key,
    }
    live_session = create_customer_session(user)

    assert live_session.customer != test_session.customer
    assert live_session.livemode is True
    rows = dict(StripeCustomer.objects.filter(user=user).values_list("mode", "customer_id"))
    assert rows == {Mode.TEST: test_session.customer, Mode.LIVE: live_session.customer}

    settings.CUSTOMER_SESSIONS = {
        **settings.CUSTOMER_SESSIONS,
        "SECRET_KEY": fake_stripe.secret_key,
    }
    assert create_customer_session(user).customer == test_session.customer
    assert customer_creates(fake_stripe) == 2


# --- the idempotency key ------------------------------------------------------------


def test_key_survives_a_lost_response_so_stripe_replays_the_customer(fake_stripe, user, settings):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "MAX_NETWORK_RETRIES": 0}
    fake_stripe.drop_next(path="/v1/customers", mid_response=True)
    with pytest.raises(StripeUnavailable):
        create_customer_session(user)
    claim = StripeCustomer.objects.get(user=user)
    assert claim.customer_id == ""  # pending: never a customer Stripe did not confirm
    created_first = [c["id"] for c in fake_stripe.customers]

    session = create_customer_session(user)

    creates = [r for r in fake_stripe.requests if r.path == "/v1/customers"]
    assert [r.idempotency_key for r in creates] == [claim.idempotency_key] * 2
    assert creates[-1].replayed is True
    assert [c["id"] for c in fake_stripe.customers] == created_first == [session.customer]


def test_a_primary_key_reused_by_somebody_else_never_replays(fake_stripe, user):
    create_customer_session(user)
    first_key = StripeCustomer.objects.get(user=user).idempotency_key
    pk = user.pk
    # A database reset: the same primary key now belongs to somebody else.
    StripeCustomer.objects.all().delete()
    user.delete()
    other = UserFactory(id=pk, username="someone-else")

    session = create_customer_session(other)

    assert StripeCustomer.objects.get(user=other).idempotency_key != first_key
    assert customer_creates(fake_stripe) == 2
    assert len(fake_stripe.customers) == 2
    customer = next(c for c in fake_stripe.customers if c["id"] == session.customer)
    assert customer["email"] == other.email


def test_changed_params_after_a_failed_attempt_get_a_new_key(fake_stripe, user, settings):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "MAX_NETWORK_RETRIES": 0}
    fake_stripe.drop_next(path="/v1/customers", mid_response=True)
    with pytest.raises(StripeUnavailable):
        create_customer_session(user)
    old_key = StripeCustomer.objects.get(user=user).idempotency_key
    user.email = "new@example.com"
    user.save()

    session = create_customer_session(user)

    assert StripeCustomer.objects.get(user=user).idempotency_key != old_key
    customer = next(c for c in fake_stripe.customers if c["id"] == session.customer)
    assert customer["email"] == "new@example.com"


def test_deletions_stripe_confirms_are_all_replaced_whatever_the_limit(fake_stripe, settings):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "REPLACEMENT_LIMIT": 2}
    users = UserFactory.create_batch(5)
    old = {u.pk: get_or_create_customer(u) for u in users}
    for customer in old.values():
        fake_stripe.delete_customer(customer)

    for u in users:
        assert create_customer_session(u).customer != old[u.pk]
    assert ReplacedStripeCustomer.objects.filter(reason="deleted").count() == 5


def test_a_flood_of_unconfirmed_disappearances_stops_forgetting(fake_stripe, settings):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "REPLACEMENT_LIMIT": 2}
    users = UserFactory.create_batch(3)
    mapped = [get_or_create_customer(u) for u in users]

    assert forget_customer(mapped[0], "missing")
    assert forget_customer(mapped[1], "missing")
    with pytest.raises(TooManyReplacements) as info:
        forget_customer(mapped[2], "missing")

    assert isinstance(info.value, StripeMisconfigured)
    assert StripeCustomer.objects.get(user=users[2]).customer_id == mapped[2]
    assert ReplacedStripeCustomer.objects.count() == 2
    # A deletion Stripe confirmed is still forgotten: the limit is for guesses only.
    assert forget_customer(mapped[2], "deleted")


def test_a_customer_mapped_to_another_user_is_never_handed_out(fake_stripe, db, settings):
    # Parameters that do not depend on the user, so Stripe can replay one user's create
    # as another's.
    settings.CUSTOMER_SESSIONS = {
        **settings.CUSTOMER_SESSIONS,
        "CUSTOMER_PARAMS": lambda user: {"description": "shop customer"},
    }
    alice, bob = UserFactory.create_batch(2)
    alice_customer = get_or_create_customer(alice)
    alice_key = StripeCustomer.objects.get(user=alice).idempotency_key
    # Force the state: Bob's pending claim carries Alice's key, so Stripe replays
    # Alice's customer to Bob's create.
    StripeCustomer.objects.create(user=bob, mode=Mode.TEST, idempotency_key=alice_key)

    with pytest.raises(CustomerConflict):
        create_customer_session(bob)

    bob_row = StripeCustomer.objects.get(user=bob)
    assert bob_row.customer_id == ""
    assert bob_row.idempotency_key != alice_key
    assert session_creates(fake_stripe) == 0
    # The next attempt makes Bob a customer of his own.
    assert create_customer_session(bob).customer not in ("", alice_customer)


def test_connected_accounts_have_their_own_customers(fake_stripe, user):
    platform = create_customer_session(user)
    connected = create_customer_session(user, account="acct_1ABC")
    assert connected.customer != platform.customer
    assert fake_stripe.requests[-1].stripe_account == "acct_1ABC"
    rows = set(StripeCustomer.objects.filter(user=user).values_list("account", "customer_id"))
    assert rows == {("", platform.customer), ("acct_1ABC", connected.customer)}
