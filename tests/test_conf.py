"""The app's settings: merged over documented defaults, read when used, refused when wrong."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from customer_sessions.conf import DEFAULTS, get_settings
from customer_sessions.services import create_customer_session


@pytest.mark.django_db
def test_a_site_preset_is_what_stripe_receives(fake_stripe, user):
    saved_cards_only = {
        "payment_element": {"enabled": True, "features": {"payment_method_redisplay": "enabled"}}
    }
    conf = {
        **settings.CUSTOMER_SESSIONS,
        "COMPONENT_PRESETS": {"saved_cards_only": saved_cards_only},
        "DEFAULT_COMPONENTS": "saved_cards_only",
    }
    with override_settings(CUSTOMER_SESSIONS=conf):
        session = create_customer_session(user)

    sent = fake_stripe.requests_to("POST", "/v1/customer_sessions")[-1].params["components"]
    # As form-encoded on the wire: booleans arrive as "true".
    assert sent == {
        "payment_element": {"enabled": "true", "features": {"payment_method_redisplay": "enabled"}}
    }
    assert session.enabled_components == ("payment_element",)


def test_settings_are_the_defaults_under_the_sites_keys():
    with override_settings(CUSTOMER_SESSIONS={"TIMEOUT": "3", "THROTTLE_RATE": None}):
        conf = get_settings()
        assert conf.TIMEOUT == 3.0  # numbers are read as numbers
        assert conf.THROTTLE_RATE is None
        assert conf.MAX_NETWORK_RETRIES == DEFAULTS["MAX_NETWORK_RETRIES"]
        assert dict(conf.COMPONENT_PRESETS) == DEFAULTS["COMPONENT_PRESETS"]


def test_a_change_of_the_setting_is_seen_at_once():
    with override_settings(CUSTOMER_SESSIONS={"TIMEOUT": 1}):
        assert get_settings().TIMEOUT == 1.0
        with override_settings(CUSTOMER_SESSIONS={"TIMEOUT": 2}):
            assert get_settings().TIMEOUT == 2.0
        assert get_settings().TIMEOUT == 1.0


def test_the_secrets_are_kept_out_of_the_settings_repr():
    with override_settings(
        CUSTOMER_SESSIONS={"SECRET_KEY": "sk_test_s3cr3t", "WEBHOOK_SECRET": "whsec_x1"}
    ):
        text = repr(get_settings())
    assert "sk_test_s3cr3t" not in text and "whsec_x1" not in text


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not a dict", "must be a dict"),
        ({"COMPONENT_PRESETS": {}}, "non-empty dict"),
        ({"DEFAULT_COMPONENTS": "nope"}, "is not one of COMPONENT_PRESETS"),
    ],
)
def test_a_wrong_shape_is_refused_naming_the_setting(value, message):
    with override_settings(CUSTOMER_SESSIONS=value):
        with pytest.raises(ImproperlyConfigured, match=message):
            get_settings()


@pytest.mark.parametrize(
    ("value", "message"),
    [("no.such.module.function", "cannot be imported"), (42, "must be a callable")],
)
def test_a_function_setting_that_is_not_one_names_it(value, message):
    with override_settings(CUSTOMER_SESSIONS={"CUSTOMER_PARAMS": value}):
        with pytest.raises(ImproperlyConfigured, match=rf"CUSTOMER_PARAMS.*{message}"):
            get_settings().customer_params_func()
