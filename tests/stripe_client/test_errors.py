"""stripe-python's failures become the app's exceptions, each with a stable code, and leave
nothing half-written."""

from __future__ import annotations

import pytest

from customer_sessions.exceptions import (
    CustomerSessionError,
    StripeInvalidRequest,
    StripeMisconfigured,
    StripeRateLimited,
    StripeUnavailable,
)
from customer_sessions.models import StripeCustomer
from customer_sessions.services import create_customer_session

pytestmark = pytest.mark.django_db


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
