"""docs/mobile.md's intent view for mobile apps, as a site copies it, against the Stripe double.

The block is read from the page and run as a module: its ``urlpatterns`` are the site's
URLconf (DRF's token sign-in, the app's endpoint, the two intent views). The suite's site
authenticates with sessions only; a site that lists ``TokenAuthentication`` in
``DEFAULT_AUTHENTICATION_CLASSES`` gets it on every view, which DRF fixes when ``APIView``
is imported, so the tests with a token mount the page's views with that class (as
``as_view`` allows) where that setting would have put it.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.test import Client, override_settings
from django.urls import path
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.authtoken.models import Token

from customer_sessions.api.views import CustomerSessionView
from customer_sessions.models import StripeCustomer

from .factories import UserFactory
from .reliability.test_never_persisted import everything_in_the_caches, everything_in_the_database

pytestmark = pytest.mark.django_db
PAGE = Path(__file__).resolve().parent.parent / "docs" / "mobile.md"
BLOCK = re.compile(r"```python\n(?P<code>(?:(?!```).)*?class MobileIntentView.*?)```", re.S)
SHOPS = {"shop-a.test": "acct_1ShopA"}


def account_from_host(request: Any) -> str:
    return SHOPS.get(request.get_host(), "")


@pytest.fixture
def example() -> Iterator[types.ModuleType]:
    match = BLOCK.search(PAGE.read_text())
    assert match, "docs/mobile.md no longer shows MobileIntentView"
    module = types.ModuleType("mobile_example")
    exec(compile(match["code"], str(PAGE), "exec"), module.__dict__)  # noqa: S102 (our docs)
    sys.modules[module.__name__] = module
    try:
        yield module
    finally:
        del sys.modules[module.__name__]


@pytest.fixture
def with_tokens(example: types.ModuleType) -> Iterator[types.ModuleType]:
    """The page's URLconf on a site whose DEFAULT_AUTHENTICATION_CLASSES list the token:
    the app's endpoint and the page's views, each with the classes that setting gives."""
    classes = [TokenAuthentication, SessionAuthentication]
    view = example.MobileIntentView
    urls = types.ModuleType("mobile_example_token_urls")
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("api/customer-session/", CustomerSessionView.as_view(authentication_classes=classes)),
        path(
            "api/payment-intent/",
            view.as_view(intent="payment", authentication_classes=classes),
        ),
        path("api/setup-intent/", view.as_view(intent="setup", authentication_classes=classes)),
    ]
    with override_settings(ROOT_URLCONF=urls):
        yield example


def app(user: Any) -> Client:
    """A mobile app's HTTP client: a token header, no cookies, CSRF checks on."""
    key = Token.objects.get_or_create(user=user)[0].key
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Token {key}"})


def directives(response: Any) -> set[str]:
    return {part.strip() for part in response["Cache-Control"].split(",")}


def test_paymentsheet_gets_the_session_and_a_payment_intent_of_one_customer(
    with_tokens, fake_stripe
):
    user = UserFactory()
    client = app(user)

    session = client.post(
        "/api/customer-session/",
        {"components": "mobile_payment_element"},
        content_type="application/json",
    )
    intent = client.post(
        "/api/payment-intent/",
        {"amount": 1, "customer": "cus_someone_else"},
        content_type="application/json",
    )

    assert session.status_code == 201, session.content
    assert intent.status_code == 201, intent.content
    customer = StripeCustomer.objects.get(user=user).customer_id
    (created,) = fake_stripe.payment_intents
    assert intent.json() == {
        "client_secret": created["client_secret"],
        "customer": customer,
        "stripe_account": None,
    }
    assert session.json()["customer"] == created["customer"] == customer
    assert created["amount"] == with_tokens.order_total(user)
    assert {"no-store", "private"} <= directives(intent)
    assert [c["id"] for c in fake_stripe.customers] == [customer]


def test_customersheet_gets_a_setup_intent_for_the_same_customer(with_tokens, fake_stripe):
    user = UserFactory()
    client = app(user)

    session = client.post(
        "/api/customer-session/", {"components": "customer_sheet"}, content_type="application/json"
    )
    intent = client.post("/api/setup-intent/")

    assert intent.status_code == 201, intent.content
    (created,) = fake_stripe.setup_intents
    assert created["usage"] == "off_session"
    assert intent.json()["client_secret"] == created["client_secret"]
    assert created["customer"] == session.json()["customer"] == intent.json()["customer"]
    assert set(fake_stripe.customer_sessions[0]["components"]) >= {"customer_sheet"}
    assert fake_stripe.customer_sessions[0]["components"]["customer_sheet"]["enabled"] is True


@pytest.mark.parametrize("credentials", [None, "Token " + "0" * 40], ids=["none", "unknown"])
def test_without_a_valid_token_no_intent_is_made(with_tokens, fake_stripe, credentials):
    headers = {"Authorization": credentials} if credentials else {}
    response = Client(enforce_csrf_checks=True, headers=headers).post("/api/payment-intent/")

    assert response.status_code == 401
    assert response.json()["code"] == (
        "authentication_failed" if credentials else "not_authenticated"
    )
    assert "no-store" in directives(response)
    assert fake_stripe.requests == []


def test_an_inactive_users_token_makes_no_intent(with_tokens, fake_stripe):
    user = UserFactory()
    client = app(user)
    user.is_active = False
    user.save()

    response = client.post("/api/setup-intent/")

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert fake_stripe.requests == []


def test_intents_and_sessions_spend_one_allowance_per_user(with_tokens, fake_stripe, settings):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "THROTTLE_RATE": "3/min"}
    busy = app(UserFactory())

    answers = [
        busy.post("/api/customer-session/").status_code,
        busy.post("/api/payment-intent/").status_code,
        busy.post("/api/setup-intent/").status_code,
    ]
    refused = busy.post("/api/payment-intent/")

    assert answers == [201, 201, 201]
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    assert app(UserFactory()).post("/api/payment-intent/").status_code == 201
    assert len(fake_stripe.payment_intents) == 2


def test_a_stripe_failure_is_a_json_error_without_a_secret(with_tokens, fake_stripe, caplog):
    client = app(UserFactory())
    client.post("/api/customer-session/")  # the customer exists
    fake_stripe.fail_next(500, path="/v1/payment_intents", times=None)

    response = client.post("/api/payment-intent/")

    assert response.status_code == 502
    assert response.json()["code"] == "stripe_error"
    assert "no-store" in directives(response)
    assert "_secret_" not in caplog.text
    assert fake_stripe.payment_intents == []


def test_stripe_unreachable_for_the_customer_is_the_endpoints_error(with_tokens, fake_stripe):
    fake_stripe.fail_next(503, path="/v1/customers", times=None)

    response = app(UserFactory()).post("/api/payment-intent/")

    assert response.status_code == 503
    assert response.json()["code"] == "stripe_unavailable"
    assert "Retry-After" in response
    assert fake_stripe.payment_intents == []


def test_with_connect_the_intent_is_the_accounts_and_the_app_learns_its_id(
    with_tokens, fake_stripe, settings
):
    settings.CUSTOMER_SESSIONS = {
        **settings.CUSTOMER_SESSIONS,
        "ACCOUNT": f"{__name__}.account_from_host",
    }
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, *SHOPS]
    user = UserFactory()
    client = app(user)

    session = client.post("/api/customer-session/", headers={"Host": "shop-a.test"})
    intent = client.post("/api/payment-intent/", headers={"Host": "shop-a.test"})

    assert intent.status_code == 201, intent.content
    assert intent.json()["stripe_account"] == "acct_1ShopA"
    (created,) = fake_stripe.payment_intents
    assert created.account == "acct_1ShopA"
    assert created["customer"] == session.json()["customer"]
    assert (
        StripeCustomer.objects.get(user=user, account="acct_1ShopA").customer_id
        == (created["customer"])
    )


def test_the_pages_own_urls_sign_an_app_in_and_serve_a_browser_session(example, fake_stripe):
    """The page's ``urlpatterns`` as they are: DRF's token sign-in, then (on this
    session-authenticated site) a browser's request, which must carry its CSRF token."""
    user = UserFactory()
    user.password = make_password("a-long-app-password")
    user.save()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    csrf = secrets.token_hex(16)  # a CSRF secret as Django's cookie holds it
    browser.cookies[settings.CSRF_COOKIE_NAME] = csrf

    with override_settings(ROOT_URLCONF=example):
        signed_in = Client().post(
            "/api/token/", {"username": user.username, "password": "a-long-app-password"}
        )
        forged = browser.post("/api/payment-intent/")
        intent = browser.post("/api/payment-intent/", headers={"X-CSRFToken": csrf})
        session = browser.post("/api/customer-session/", headers={"X-CSRFToken": csrf})

    assert signed_in.status_code == 200, signed_in.content
    assert signed_in.json() == {"token": Token.objects.get(user=user).key}
    assert (forged.status_code, forged.json()["code"]) == (403, "permission_denied")
    assert intent.status_code == 201, intent.content
    assert session.status_code == 201
    assert intent.json()["customer"] == session.json()["customer"]


def test_the_secrets_are_kept_nowhere(with_tokens, fake_stripe, caplog):
    """Not in a database row, a cache or a log record (every logger at DEBUG)."""
    caplog.set_level(logging.DEBUG)
    client = app(UserFactory())

    session = client.post("/api/customer-session/", {"components": "mobile_payment_element"})
    payment = client.post("/api/payment-intent/")
    setup = client.post("/api/setup-intent/")

    secrets_handed_out = [r.json()["client_secret"] for r in (session, payment, setup)]
    assert all(secrets_handed_out)
    kept = everything_in_the_database() + everything_in_the_caches() + caplog.text
    for secret in secrets_handed_out:
        assert secret not in kept
