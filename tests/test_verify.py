"""``manage.py customer_sessions_verify``, against the Stripe double: it reports what Stripe
no longer has, and ``--fix`` forgets it under the app's rules."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from customer_sessions.models import ReplacedStripeCustomer, StripeCustomer
from customer_sessions.services import get_or_create_customer

from .factories import StripeCustomerFactory, UserFactory


def verify(*args: str) -> str:
    out = io.StringIO()
    call_command("customer_sessions_verify", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def mapped_ids() -> list[str]:
    return list(
        StripeCustomer.objects.exclude(customer_id="").values_list("customer_id", flat=True)
    )


@pytest.fixture
def mappings(fake_stripe, db):  # type: ignore[no-untyped-def]
    """One mapping that is fine, one deleted in Stripe, one missing, one of the other mode."""
    ok = StripeCustomer.objects.get(
        customer_id=get_or_create_customer(UserFactory(username="ok", password=None))
    )
    deleted = StripeCustomer.objects.get(
        customer_id=get_or_create_customer(UserFactory(username="deleted", password=None))
    )
    fake_stripe.delete_customer(deleted.customer_id)
    missing = StripeCustomerFactory(
        user__username="missing", user__password=None, customer_id="cus_NeverExisted"
    )
    live_customer = fake_stripe.create_customer(livemode=True, email="w@example.com")
    wrong = StripeCustomerFactory(
        user__username="wrong", user__password=None, customer_id=live_customer["id"]
    )
    return {"ok": ok, "deleted": deleted, "missing": missing, "wrong": wrong}


def test_verify_reports_deleted_missing_and_wrong_mode_and_changes_nothing(mappings):
    with pytest.raises(CommandError, match=r"3 mapping\(s\) point at customers Stripe does not"):
        call_command("customer_sessions_verify", "--rate", "1000", stdout=(out := io.StringIO()))

    text = out.getvalue()
    assert f"deleted: {mappings['deleted'].customer_id} of user" in text
    assert "missing: cus_NeverExisted of user" in text
    assert f"wrong_mode: {mappings['wrong'].customer_id} of user" in text
    assert mappings["ok"].customer_id not in text
    assert "Checked 4: 1 ok, 1 deleted, 1 missing, 1 wrong mode." in text
    assert len(mapped_ids()) == 4
    assert not ReplacedStripeCustomer.objects.exists()


def test_verify_fix_forgets_them_under_the_apps_rules(mappings, fake_stripe):
    out = verify("--fix", "--rate", "1000")

    assert "Forgot 3 customer(s)" in out
    assert mapped_ids() == [mappings["ok"].customer_id]
    reasons = dict(ReplacedStripeCustomer.objects.values_list("customer_id", "reason"))
    assert reasons == {
        mappings["deleted"].customer_id: "deleted",
        "cus_NeverExisted": "missing",
        mappings["wrong"].customer_id: "missing",
    }
    # Now everything checks out, and the users get new customers on their next session.
    assert "Checked 1: 1 ok, 0 deleted, 0 missing, 0 wrong mode." in verify("--rate", "1000")
    assert get_or_create_customer(mappings["deleted"].user) != mappings["deleted"].customer_id


def test_verify_fix_stops_at_the_replacement_limit(mappings):
    conf = {**settings.CUSTOMER_SESSIONS, "REPLACEMENT_LIMIT": 1}
    with override_settings(CUSTOMER_SESSIONS=conf):
        with pytest.raises(CommandError, match="Stopped after forgetting 2"):
            verify("--fix", "--rate", "1000")
    # The deletion Stripe confirmed, and one of the two it merely does not know (the limit).
    reasons = sorted(ReplacedStripeCustomer.objects.values_list("reason", flat=True))
    assert reasons == ["deleted", "missing"]
    assert len(mapped_ids()) == 2


def test_verify_skips_mappings_of_the_other_mode(fake_stripe, db):
    StripeCustomerFactory(mode="live", customer_id="cus_LiveOne")
    out = verify("--rate", "1000")
    assert "Checked 0: " in out
    assert "1 mapping(s) of the other mode were not checked" in out
    assert fake_stripe.requests == []


def test_verify_one_account_only(mappings, fake_stripe):
    user = UserFactory()
    get_or_create_customer(user, account="acct_1Shop")
    before = len(fake_stripe.requests)
    out = verify("--account", "acct_1Shop", "--rate", "1000")
    assert "Checked 1: 1 ok" in out
    assert [r.stripe_account for r in fake_stripe.requests[before:]] == ["acct_1Shop"]


def test_verify_rides_out_a_stripe_hiccup(mappings, fake_stripe):
    fake_stripe.fail_next(503)
    conf = {**settings.CUSTOMER_SESSIONS, "MAX_NETWORK_RETRIES": 0}
    with override_settings(CUSTOMER_SESSIONS=conf), pytest.raises(CommandError, match="3 mapping"):
        verify("--rate", "1000")
    statuses = sorted(r.status or 0 for r in fake_stripe.requests_to("GET"))
    assert statuses == [200, 200, 404, 404, 503]  # four customers, one asked twice


@pytest.mark.django_db
def test_verify_fix_forgets_closed_accounts_and_keeps_open_ones(fake_stripe, settings):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "CUSTOMER_OBJECT": "account"}
    open_id = get_or_create_customer(UserFactory(username="open", password=None))
    closed_id = get_or_create_customer(UserFactory(username="closed", password=None))
    fake_stripe.close_account(closed_id)

    text = verify("--rate", "1000", "--fix")

    assert f"deleted: {closed_id} of user" in text
    assert mapped_ids() == [open_id]
    record = ReplacedStripeCustomer.objects.get(customer_id=closed_id)
    assert (record.reason, record.customer_object) == ("deleted", "account")
    assert {r.path for r in fake_stripe.requests_to("GET")} == {
        f"/v2/core/accounts/{open_id}",
        f"/v2/core/accounts/{closed_id}",
    }
