"""The app's long-lived Stripe clients: the key's mode, one client per key and account."""

from __future__ import annotations

import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from customer_sessions.exceptions import StripeMisconfigured
from customer_sessions.services import create_customer_session, get_client

pytestmark = pytest.mark.django_db


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


def test_one_client_per_key_and_account_reused_and_dropped_on_settings_change(
    fake_stripe, settings
):
    assert get_client() is get_client()
    assert get_client("acct_1") is get_client("acct_1")
    assert get_client("acct_1") is not get_client()
    first = get_client()
    with override_settings(CUSTOMER_SESSIONS={**settings.CUSTOMER_SESSIONS, "TIMEOUT": 3}):
        assert get_client() is not first


def test_a_dropped_client_closes_its_connection_to_stripe(fake_stripe, user, settings):
    create_customer_session(user, throttle=False)  # a kept-alive connection to the double
    assert fake_stripe.open_connections == 1

    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "TIMEOUT": 7}  # a new client

    # Closed now, not whenever the garbage collector gets to the old client.
    deadline = time.monotonic() + 5
    while fake_stripe.open_connections and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake_stripe.open_connections == 0
    create_customer_session(user, throttle=False)
    assert fake_stripe.open_connections == 1


@pytest.mark.parametrize(
    ("key", "mode"),
    [
        ("sk_test_51Abc", "test"),
        ("sk_live_51Abc", "live"),
        ("rk_test_51Abc", "test"),
        ("rk_live_51Abc", "live"),
    ],
)
def test_the_mode_is_read_from_every_kind_of_key(key, mode):
    from customer_sessions.services import stripe_mode

    assert stripe_mode(key) == mode


@pytest.mark.parametrize("key", ["pk_test_51Abc", "pk_live_51Abc", "sk_51Abc", "test_sk_1", ""])
def test_a_key_that_is_not_secret_or_restricted_has_no_mode(key):
    from customer_sessions.services import stripe_mode

    with pytest.raises(StripeMisconfigured, match="sk_test_, sk_live_, rk_test_ or rk_live_"):
        stripe_mode(key)
