"""The data's life cycle: no raw delete in the admin, and what a deleted user leaves behind."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from customer_sessions.models import ReplacedStripeCustomer, StripeCustomer
from customer_sessions.services import get_or_create_customer

from .factories import StripeCustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/customer_sessions/stripecustomer/"


@pytest.fixture
def boss() -> Client:
    client = Client()
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def delete_with_user(settings):  # type: ignore[no-untyped-def]
    settings.CUSTOMER_SESSIONS = {
        **settings.CUSTOMER_SESSIONS,
        "DELETE_CUSTOMERS_WITH_USER": True,
        "MAX_NETWORK_RETRIES": 0,
    }


def in_stripe(fake_stripe) -> set[str]:  # type: ignore[no-untyped-def]
    return {c["id"] for c in fake_stripe.customers}


# --- the admin ----------------------------------------------------------------------------


def test_the_admin_offers_no_raw_delete_of_a_mapping(boss, fake_stripe):
    row = StripeCustomer.objects.get(customer_id=get_or_create_customer(UserFactory()))

    listing = boss.get(CHANGELIST).content.decode()
    assert 'value="delete_selected"' not in listing
    assert 'value="forget_customers_stripe_lost"' in listing  # the audited way remains
    assert "/delete/" not in boss.get(f"{CHANGELIST}{row.pk}/change/").content.decode()
    refused = boss.post(f"{CHANGELIST}{row.pk}/delete/", {"post": "yes"})
    assert refused.status_code == 403
    bulk = boss.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)
    assert StripeCustomer.objects.filter(pk=row.pk, customer_id=row.customer_id).exists()
    assert not ReplacedStripeCustomer.objects.exists()


# --- deleting a user --------------------------------------------------------------------


@pytest.mark.parametrize("how", ["instance", "queryset"])
def test_a_deleted_users_customers_stay_on_record(fake_stripe, how):
    user = UserFactory()
    platform = get_or_create_customer(user)
    connected = get_or_create_customer(user, account="acct_1Shop")
    earlier = ReplacedStripeCustomer.objects.create(
        user=user, user_pk=str(user.pk), mode="test", customer_id="cus_Earlier", reason="deleted"
    )
    StripeCustomerFactory(user=UserFactory(), customer_id="cus_SomeoneElse")
    pk = user.pk

    if how == "instance":
        user.delete()
    else:
        get_user_model().objects.filter(pk=pk).delete()

    assert not StripeCustomer.objects.filter(user_id=pk).exists()
    records = ReplacedStripeCustomer.objects.filter(user_pk=str(pk)).order_by("pk")
    assert [(r.customer_id, r.reason, r.account, r.user_id) for r in records] == [
        ("cus_Earlier", "deleted", "", None),
        (platform, "user_deleted", "", None),
        (connected, "user_deleted", "acct_1Shop", None),
    ]
    earlier.refresh_from_db()
    assert earlier.user_id is None and earlier.user_pk == str(pk)
    # Off by default: the customers stay in Stripe.
    assert {platform, connected} <= in_stripe(fake_stripe)
    assert StripeCustomer.objects.filter(customer_id="cus_SomeoneElse").exists()


def test_a_mapping_deleted_by_hand_is_on_record(fake_stripe):
    user = UserFactory()
    customer = get_or_create_customer(user)
    StripeCustomer.objects.filter(user=user).delete()
    record = ReplacedStripeCustomer.objects.get()
    assert (record.customer_id, record.reason, record.user_pk) == (
        customer,
        "mapping_deleted",
        str(user.pk),
    )


@pytest.mark.django_db(transaction=True)
def test_with_the_setting_their_customers_are_deleted_once_the_deletion_commits(
    fake_stripe, delete_with_user
):
    from django.db import transaction

    user = UserFactory()
    platform = get_or_create_customer(user)
    connected = get_or_create_customer(user, account="acct_1Shop")
    keep = get_or_create_customer(UserFactory())

    with transaction.atomic():
        user.delete()
        assert {platform, connected} <= in_stripe(fake_stripe)  # not before the commit

    assert in_stripe(fake_stripe) == {keep}
    deletes = fake_stripe.requests_to("DELETE")
    assert sorted((r.path, r.stripe_account) for r in deletes) == sorted(
        [(f"/v1/customers/{platform}", None), (f"/v1/customers/{connected}", "acct_1Shop")]
    )
    records = ReplacedStripeCustomer.objects.filter(reason="user_deleted")
    assert all(r.stripe_deleted_at is not None for r in records)


@pytest.mark.django_db(transaction=True)
def test_a_deletion_rolled_back_deletes_nothing_in_stripe(fake_stripe, delete_with_user):
    from django.db import transaction

    user = UserFactory()
    pk = user.pk
    customer = get_or_create_customer(user)
    with pytest.raises(RuntimeError), transaction.atomic():
        user.delete()
        raise RuntimeError("the site's deletion fails")
    assert customer in in_stripe(fake_stripe)
    assert StripeCustomer.objects.get(user_id=pk).customer_id == customer
    assert not ReplacedStripeCustomer.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_failed_deletion_is_logged_and_reported_until_verify_fix(
    fake_stripe, delete_with_user, caplog
):
    user = UserFactory()
    pk = user.pk
    customer = get_or_create_customer(user)
    fake_stripe.fail_next(500, method="DELETE", times=None)
    user.delete()

    assert customer in in_stripe(fake_stripe)
    assert any(
        r.levelname == "ERROR" and customer in r.getMessage() and "verify" in r.getMessage()
        for r in caplog.records
    )
    with pytest.raises(CommandError):
        call_command("customer_sessions_verify", "--rate", "1000", stdout=(out := io.StringIO()))
    assert f"still in Stripe: {customer} of deleted user {pk}" in out.getvalue()

    fake_stripe.clear_faults()
    call_command("customer_sessions_verify", "--fix", "--rate", "1000", stdout=io.StringIO())
    assert customer not in in_stripe(fake_stripe)
    assert ReplacedStripeCustomer.objects.get(customer_id=customer).stripe_deleted_at
    # Nothing left to report.
    call_command("customer_sessions_verify", "--rate", "1000", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_customers_of_the_other_mode_are_reported_not_lost(fake_stripe, delete_with_user, caplog):
    user = UserFactory()
    live = fake_stripe.create_customer(livemode=True, email=user.email)["id"]
    StripeCustomerFactory(user=user, mode="live", customer_id=live)
    user.delete()

    assert live in {c["id"] for c in fake_stripe.customers}
    assert any("live mode" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
    call_command("customer_sessions_verify", "--rate", "1000", stdout=(out := io.StringIO()))
    assert "1 customer(s) of deleted users were made in the other mode" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_with_the_setting_a_deleted_users_account_is_closed(
    fake_stripe, delete_with_user, settings
):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "CUSTOMER_OBJECT": "account"}
    user = UserFactory()
    account_id = get_or_create_customer(user)

    user.delete()

    assert fake_stripe.accounts == []
    (close,) = fake_stripe.requests_to("POST", f"/v2/core/accounts/{account_id}/close")
    assert close.params == {"applied_configurations": ["customer"]}
    assert fake_stripe.requests_to("DELETE") == []
    record = ReplacedStripeCustomer.objects.get(customer_id=account_id)
    assert record.customer_object == "account" and record.stripe_deleted_at is not None
