"""The components of a Customer Session, read from stripe-python, and a site's presets checked
against them before the first checkout."""

from __future__ import annotations

import pytest
import stripe
from django.core import checks
from django.test import override_settings

from customer_sessions import checks as app_checks
from customer_sessions.components import catalogue, preset_problems
from customer_sessions.conf import DEFAULTS
from customer_sessions.services import create_customer_session

FIVE = {
    "payment_element",
    "pricing_table",
    "buy_button",
    "customer_sheet",
    "mobile_payment_element",
}


def test_the_catalogue_has_every_component_the_issue_names_with_stripes_features():
    known = catalogue()
    assert FIVE <= set(known)
    assert set(known["payment_element"]) == {
        "payment_method_allow_redisplay_filters",
        "payment_method_redisplay",
        "payment_method_redisplay_limit",
        "payment_method_remove",
        "payment_method_save",
        "payment_method_save_usage",
    }
    assert set(known["customer_sheet"]) == {
        "payment_method_allow_redisplay_filters",
        "payment_method_remove",
    }
    assert "payment_method_save_allow_redisplay_override" in known["mobile_payment_element"]
    assert known["pricing_table"] == {} and known["buy_button"] == {}
    assert known["payment_element"]["payment_method_save_usage"].values == {
        "off_session",
        "on_session",
    }


def test_the_default_presets_are_one_per_component_and_all_accepted():
    assert FIVE == set(DEFAULTS["COMPONENT_PRESETS"])
    for name, components in DEFAULTS["COMPONENT_PRESETS"].items():
        assert preset_problems(name, components) == [], name


@pytest.mark.parametrize(
    ("components", "problem"),
    [
        ({"pricing_tabel": {"enabled": True}}, "'pricing_tabel' is not a component"),
        ({"payment_element": {"enabled": "yes"}}, "needs 'enabled': True or False"),
        ({"payment_element": {"enabled": False}}, "enables no component"),
        (
            {"payment_element": {"enabled": True, "features": {"remove": "enabled"}}},
            "feature 'remove' is not a feature of payment_element",
        ),
        (
            {
                "payment_element": {
                    "enabled": True,
                    "features": {"payment_method_redisplay": "on"},
                }
            },
            "feature 'payment_method_redisplay' is 'on', not one of 'disabled', 'enabled'",
        ),
        (
            {
                "customer_sheet": {
                    "enabled": True,
                    "features": {"payment_method_allow_redisplay_filters": ["always", "x"]},
                }
            },
            "has 'x', not one of 'always', 'limited', 'unspecified'",
        ),
        (
            {
                "payment_element": {
                    "enabled": True,
                    "features": {"payment_method_redisplay_limit": "3"},
                }
            },
            "must be a positive whole number",
        ),
        ({"buy_button": {"enabled": True, "features": {}}}, "has no features"),
        ({}, "must be a non-empty dict"),
    ],
)
def test_a_preset_stripe_would_refuse_is_named_precisely(components, problem):
    problems = preset_problems("mine", components)
    assert any(problem in p for p in problems), problems


def test_the_check_reports_each_problem_with_the_preset_and_feature():
    presets = {
        **DEFAULTS["COMPONENT_PRESETS"],
        "mine": {"payment_element": {"enabled": True, "features": {"payment_method_save": "yes"}}},
    }
    with override_settings(CUSTOMER_SESSIONS={"COMPONENT_PRESETS": presets}):
        assert app_checks.check_component_presets() == [
            checks.Error(
                "CUSTOMER_SESSIONS['COMPONENT_PRESETS']: preset 'mine', component "
                "'payment_element', feature 'payment_method_save' is 'yes', not one of "
                "'disabled', 'enabled'.",
                hint="Stripe would refuse every session of this preset (400) at the first "
                "checkout. See the presets and features in docs/settings.md#component_presets.",
                id="customer_sessions.E011",
            )
        ]
    with override_settings(CUSTOMER_SESSIONS={}):
        assert app_checks.check_component_presets() == []


@pytest.mark.django_db
@pytest.mark.parametrize("preset", sorted(FIVE))
def test_every_preset_makes_a_session_with_what_stripe_answered(fake_stripe, user, preset):
    session = create_customer_session(user, preset)

    [component] = DEFAULTS["COMPONENT_PRESETS"][preset]
    assert session.enabled_components == (component,)
    sent = fake_stripe.requests_to("POST", "/v1/customer_sessions")[-1].params["components"]
    assert set(sent) == {component}
    answered = fake_stripe.customer_sessions[-1]
    assert dict(session.components) == answered["components"]
    assert session.components[component]["enabled"] is True
    asked = DEFAULTS["COMPONENT_PRESETS"][preset][component].get("features", {})
    for feature, value in asked.items():
        assert session.components[component]["features"][feature] == value
    assert session.created == answered["created"] and session.created > 0
    assert session.customer == answered["customer"]
    assert session.customer_account is None
    assert session.expires_at == answered["expires_at"]
    assert session.livemode is False


def test_the_catalogue_follows_the_installed_stripe_python():
    assert stripe.VERSION in preset_problems("x", {"nope": {"enabled": True}})[0]
