"""The Python API: the mapping, the session, Stripe failures, replaced customers."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from customer_sessions import services, signals
from customer_sessions.exceptions import (
    CustomerConflict,
    CustomerSessionError,
    StripeInvalidRequest,
    StripeMisconfigured,
    StripeRateLimited,
    StripeUnavailable,
    TooManyReplacements,
    UnknownComponents,
)
from customer_sessions.models import Mode, ReplacedStripeCustomer, StripeCustomer
from customer_sessions.services import (
    create_customer_session,
    forget_customer,
    get_client,
    get_or_create_customer,
)

from .conftest import customer_creates, session_creates
from .factories import UserFactory

pytestmark = pytest.mark.django_db


def conf(fake, **extra: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from django.conf import settings

    return {**settings.CUSTOMER_SESSIONS, **extra}


def test_first_session_creates_one_customer_and_one_row(fake_stripe, user):
    session = create_customer_session(user)

    assert customer_creates(fake_stripe) == 1
    assert session_creates(fake_stripe) == 1
    row = StripeCustomer.objects.get(user=user)
    assert (row.mode, row.account, row.customer_id) == (Mode.TEST, "", session.customer)
    customer = next(c for c in fake_stripe.customers if c["id"] == session.customer)
    assert customer["email"] == user.email
    assert customer["name"] == user.get_full_name()
    assert customer["metadata"] == {"django_user_id": str(user.pk)}
    assert session.client_secret.startswith("cuss_secret_")
    assert session.livemode is False
    assert session.components == ("payment_element",)


def test_mapped_user_costs_one_stripe_request_and_one_query(fake_stripe, user):
    create_customer_session(user)
    before = len(fake_stripe.requests)

    with CaptureQueriesContext(connection) as queries:
        session = create_customer_session(user)

    assert len(fake_stripe.requests) - before == 1
    assert fake_stripe.requests[-1].path == "/v1/customer_sessions"
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert session.customer == StripeCustomer.objects.get(user=user).customer_id


def test_every_session_is_fresh(fake_stripe, user):
    secrets = {create_customer_session(user).client_secret for _ in range(5)}
    assert len(secrets) == 5
    assert customer_creates(fake_stripe) == 1


def test_session_sends_the_default_components(fake_stripe, user):
    create_customer_session(user)
    sent = fake_stripe.requests[-1].params
    assert sent["components"]["payment_element"]["enabled"] in (True, "true")
    features = sent["components"]["payment_element"]["features"]
    assert features["payment_method_redisplay"] == "enabled"
    assert features["payment_method_save"] == "enabled"
    assert features["payment_method_remove"] == "enabled"


def test_components_preset_is_chosen_per_call(fake_stripe, user, settings):
    settings.CUSTOMER_SESSIONS = {
        **settings.CUSTOMER_SESSIONS,
        "COMPONENT_PRESETS": {
            "payment_element": {"payment_element": {"enabled": True}},
            "table": {"pricing_table": {"enabled": True}},
        },
    }
    session = create_customer_session(user, "table")
    assert session.components == ("pricing_table",)
    assert set(fake_stripe.requests[-1].params["components"]) == {"pricing_table"}


def test_unknown_preset_is_refused_before_stripe(fake_stripe, user):
    with pytest.raises(UnknownComponents, match="pricing_table"):
        create_customer_session(user, "nope")
    assert fake_stripe.requests == []


def test_value_hides_the_secret_and_cannot_be_stored(fake_stripe, user):
    session = create_customer_session(user)
    assert session.client_secret not in repr(session)
    assert session.client_secret not in str(session)
    with pytest.raises(TypeError, match="must not be pickled"):
        pickle.dumps(session)
    with pytest.raises(AttributeError):
        session.client_secret = "x"  # type: ignore[misc]
    assert session.as_json() == {
        "client_secret": session.client_secret,
        "expires_at": session.expires_at,
    }


def test_anonymous_and_inactive_users_get_nothing(fake_stripe, db):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        create_customer_session(AnonymousUser())  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        create_customer_session(UserFactory(is_active=False))
    assert fake_stripe.requests == []


def test_missing_key_names_the_setting(user, settings):
    settings.CUSTOMER_SESSIONS = {}
    with pytest.raises(StripeMisconfigured, match=r"CUSTOMER_SESSIONS\['SECRET_KEY'\]") as info:
        create_customer_session(user)
    assert isinstance(info.value, ImproperlyConfigured)


def test_a_key_that_is_not_a_secret_key_is_refused(fake_stripe, user, settings):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "SECRET_KEY": "pk_test_123"}
    with pytest.raises(StripeMisconfigured, match="sk_test_"):
        create_customer_session(user)
    assert fake_stripe.requests == []


def test_one_client_per_key_and_account_reused_and_dropped_on_settings_change(fake_stripe):
    assert get_client() is get_client()
    assert get_client("acct_1") is get_client("acct_1")
    assert get_client("acct_1") is not get_client()
    first = get_client()
    with override_settings(
        CUSTOMER_SESSIONS={**conf(fake_stripe), "TIMEOUT": 3},
    ):
        assert get_client() is not first


def test_connections_are_reused(fake_stripe, user):
    for _ in range(20):
        create_customer_session(user)
    assert fake_stripe.connections == 1


# --- test and live mode -------------------------------------------------------------


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


# --- Stripe failures ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (lambda f: f.fail_next(500, times=None), StripeUnavailable),
        (lambda f: f.fail_next(429, times=None), StripeRateLimited),
        (lambda f: f.fail_next(401), StripeMisconfigured),
        (lambda f: f.fail_next(403), StripeMisconfigured),
        (lambda f: f.fail_next(400), StripeInvalidRequest),
        (lambda f: f.drop_next(times=None), StripeUnavailable),
        (lambda f: f.malformed_next(times=None), StripeUnavailable),
    ],
    ids=["500", "429", "401", "403", "400", "dropped", "malformed"],
)
def test_stripe_failures_become_the_apps_errors_and_leave_nothing_half_written(
    fake_stripe, user, settings, fault, error, all_logs
):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "MAX_NETWORK_RETRIES": 0}
    fault(fake_stripe)

    with pytest.raises(error) as info:
        create_customer_session(user)

    assert isinstance(info.value, CustomerSessionError)
    assert info.value.code
    assert StripeCustomer.objects.exclude(customer_id="").count() == 0
    assert fake_stripe.secret_key not in info.value.detail
    assert any(r.name == "customer_sessions.stripe_client.errors" for r in all_logs.records)

    fake_stripe.clear_faults()
    session = create_customer_session(user)
    assert StripeCustomer.objects.get(user=user).customer_id == session.customer


def test_a_500_then_success_is_retried_into_one_customer(fake_stripe, user, settings):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "MAX_NETWORK_RETRIES": 2}
    fake_stripe.fail_next(500, path="/v1/customers")
    session = create_customer_session(user)
    assert len(fake_stripe.customers) == 1
    assert session.customer == fake_stripe.customers[0]["id"]


def test_timeout_becomes_unavailable(fake_stripe, user, settings):
    settings.CUSTOMER_SESSIONS = {
        **settings.CUSTOMER_SESSIONS,
        "MAX_NETWORK_RETRIES": 0,
        "TIMEOUT": 0.3,
    }
    create_customer_session(user)
    fake_stripe.delay(1.0, times=1)
    with pytest.raises(StripeUnavailable):
        create_customer_session(user)


def test_rate_limit_carries_retry_after(fake_stripe, user, settings):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "MAX_NETWORK_RETRIES": 0}
    fake_stripe.fail_next(429, headers={"Retry-After": "7"})
    with pytest.raises(StripeRateLimited) as info:
        create_customer_session(user)
    assert info.value.retry_after == 7
    assert info.value.status_code == 503


# --- stale and foreign customers ----------------------------------------------------


def test_deleted_customer_is_replaced_once_and_recorded(fake_stripe, user):
    replaced: list[dict[str, Any]] = []
    created: list[dict[str, Any]] = []

    def on_replaced(**kwargs: Any) -> None:
        replaced.append(kwargs)

    def on_created(**kwargs: Any) -> None:
        created.append(kwargs)

    signals.customer_replaced.connect(on_replaced)
    signals.customer_created.connect(on_created)
    try:
        old = create_customer_session(user).customer
        old_key = StripeCustomer.objects.get(user=user).idempotency_key
        fake_stripe.delete_customer(old)

        session = create_customer_session(user)
    finally:
        signals.customer_replaced.disconnect(on_replaced)
        signals.customer_created.disconnect(on_created)

    assert session.customer != old
    row = StripeCustomer.objects.get(user=user)
    assert row.customer_id == session.customer
    assert row.idempotency_key != old_key
    record = ReplacedStripeCustomer.objects.get(user=user)
    assert (record.customer_id, record.reason) == (old, "deleted")
    # Stripe was asked what became of the customer before it was replaced.
    assert [r.path for r in fake_stripe.requests_to("GET")] == [f"/v1/customers/{old}"]
    assert [r["old_customer_id"] for r in replaced] == [old]
    assert [c["customer_id"] for c in created] == [old, session.customer]


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


def test_stripe_client_calls_is_the_only_module_that_calls_stripe():
    import pathlib
    import re

    package = pathlib.Path(services.__file__).parent
    callers = {
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "testing" not in path.parts
        and re.search(r"\.v[12]\.|stripe\.(Customer|CustomerSession|Account)\b", path.read_text())
    }
    assert callers == {"stripe_client/calls.py"}
