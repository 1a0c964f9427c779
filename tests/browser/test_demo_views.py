"""The demo's server side, without a browser: intents, the return page, the banner."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from django.test import Client, override_settings

from customer_sessions.models import StripeCustomer
from project.views import PRODUCT
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_server_fixes_amount_and_customer_whatever_the_browser_sends(
    csrf_client: Client, user: Any, fake_stripe: Any
) -> None:
    csrf_client.get("/checkout/")
    token = csrf_client.cookies["csrftoken"].value
    response = csrf_client.post(
        "/checkout/payment/intent/",
        {"amount": 1, "currency": "jpy", "customer": "cus_someone_else"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"
    (intent,) = fake_stripe.payment_intents
    assert response.json() == {"client_secret": intent["client_secret"]}
    assert (intent["amount"], intent["currency"]) == (PRODUCT["amount"], PRODUCT["currency"])
    assert intent["customer"] == StripeCustomer.objects.get(user=user).customer_id


def test_a_setup_intent_saves_for_off_session_use(signed_in: Client, fake_stripe: Any) -> None:
    response = signed_in.post("/checkout/setup/intent/")
    assert response.status_code == 200
    (intent,) = fake_stripe.setup_intents
    assert intent["usage"] == "off_session"
    assert response.json() == {"client_secret": intent["client_secret"]}


def test_intents_need_a_signed_in_user_and_the_csrf_token(
    csrf_client: Client, fake_stripe: Any
) -> None:
    anonymous = Client(enforce_csrf_checks=True).post("/checkout/payment/intent/")
    assert anonymous.status_code == 403
    assert anonymous.json()["code"] == "not_authenticated"
    without_token = csrf_client.post("/checkout/payment/intent/")
    assert without_token.status_code == 403
    assert without_token.json()["code"] == "permission_denied"
    assert fake_stripe.requests == []


def test_an_unknown_checkout_is_not_found(signed_in: Client, fake_stripe: Any) -> None:
    assert signed_in.post("/checkout/subscription/intent/").status_code == 404
    assert fake_stripe.requests == []


def test_the_return_page_shows_only_the_users_own_intent(
    signed_in: Client, fake_stripe: Any
) -> None:
    signed_in.post("/checkout/payment/intent/")
    (mine,) = fake_stripe.payment_intents
    page = signed_in.get("/checkout/done/", {"payment_intent": mine["id"]})
    assert f"<code>{mine['id']}</code> is <strong>requires_payment_method</strong>" in (
        page.content.decode()
    )

    theirs = Client()
    theirs.force_login(UserFactory())
    page = theirs.get("/checkout/done/", {"payment_intent": mine["id"]})
    assert mine["id"] not in page.content.decode()
    assert "Nothing to show" in page.content.decode()


def test_the_banner_shows_only_while_stripe_is_simulated(
    client: Client, fake_stripe: Any, settings: Any
) -> None:
    assert "Stripe is simulated" in client.get("/").content.decode()
    real = {**settings.CUSTOMER_SESSIONS, "API_BASE": None}
    with override_settings(CUSTOMER_SESSIONS=real):
        assert "Stripe is simulated" not in client.get("/").content.decode()


def test_every_response_carries_the_content_security_policy(signed_in: Client) -> None:
    for response in [signed_in.get("/"), signed_in.post("/api/customer-session/", {})]:
        policy = dict(
            part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
        )
        assert policy["script-src"] == "'self' https://js.stripe.com https://*.js.stripe.com"
        assert policy["connect-src"] == "'self' https://api.stripe.com"
        assert policy["frame-ancestors"] == "'none'"
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]


@pytest.mark.stripe_live
def test_with_a_real_test_key_the_checkout_gets_a_payment_intent_from_stripe(
    csrf_client: Client, user: Any, settings: Any
) -> None:
    key = os.environ.get("STRIPE_TEST_SECRET_KEY", "")
    if not key.startswith(("sk_test_", "rk_test_")):
        pytest.skip("talks to Stripe test mode: set STRIPE_TEST_SECRET_KEY=sk_test_…")
    settings.CUSTOMER_SESSIONS = {"SECRET_KEY": key}
    page = csrf_client.get("/checkout/")
    assert re.search(r'"client_secret": "cuss_\w+"', page.content.decode())
    response = csrf_client.post(
        "/checkout/payment/intent/", headers={"X-CSRFToken": csrf_client.cookies["csrftoken"].value}
    )
    assert response.status_code == 200
    intent_id = response.json()["client_secret"].split("_secret_")[0]
    done = csrf_client.get("/checkout/done/", {"payment_intent": intent_id})
    assert f"<code>{intent_id}</code> is <strong>requires_payment_method</strong>" in (
        done.content.decode()
    )
