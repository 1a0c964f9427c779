"""Who gets what: forged, stale and other people's session cookies, CSRF, deactivation.

tests/api/test_views.py covers the plain cases (anonymous, inactive at sign-in, a missing CSRF
token, the throttle); these are the ones an attacker or an old browser tab would try. The
rule each test checks: a request gets a session for the user its cookie proves, or a
JSON 403 and no call to Stripe; never another user's customer, never the secret or the key
in a refusal.
"""

from __future__ import annotations

import json
from base64 import b64encode
from typing import Any

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.template import engines
from django.test import Client, RequestFactory
from rest_framework.authentication import BasicAuthentication

from customer_sessions.api.views import CustomerSessionView
from customer_sessions.middleware import CustomerSessionMiddleware
from customer_sessions.models import StripeCustomer

from ..factories import StripeCustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/customer-session/"


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_refused(response: Any, fake: Any, code: str = "not_authenticated") -> None:
    assert response.status_code == 403, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == code
    assert fake.secret_key not in response.content.decode()
    assert "cuss_secret" not in response.content.decode()
    assert fake.requests == []


def test_a_forged_session_cookie_is_anonymous(fake_stripe):
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = "0123456789abcdefghijklmnopqrstuv"
    assert_refused(client.post(URL), fake_stripe)


def test_a_signed_out_sessions_cookie_no_longer_works(fake_stripe):
    client = signed_in(UserFactory())
    stolen = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post("/accounts/logout/")

    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = stolen
    assert_refused(thief.post(URL), fake_stripe)


def test_a_password_change_ends_other_sessions(fake_stripe):
    user = UserFactory()
    old_tab = signed_in(user)
    user.set_password("a new password")
    user.save()

    assert_refused(old_tab.post(URL), fake_stripe)


def test_a_user_deactivated_after_signing_in_gets_nothing(fake_stripe):
    user = UserFactory()
    client = signed_in(user)
    user.is_active = False
    user.save()

    assert_refused(client.post(URL), fake_stripe)
    request = RequestFactory().get("/")
    request.user = user
    page = engines["django"].from_string("{% load customer_sessions %}{% customer_session %}")
    response = CustomerSessionMiddleware(lambda r: HttpResponse(page.render(request=r)))(request)
    assert response.content == b""
    assert fake_stripe.requests == []


def test_another_users_cookie_gets_that_user_only_whatever_the_body_says(fake_stripe):
    alice = StripeCustomerFactory(customer_id=fake_stripe.create_customer()["id"])
    bob = StripeCustomerFactory(customer_id=fake_stripe.create_customer()["id"])
    bobs_browser = signed_in(bob.user)

    asked_for_alice = bobs_browser.post(
        URL, data=json.dumps({"customer": alice.customer_id}), content_type="application/json"
    )
    assert asked_for_alice.status_code == 400
    assert asked_for_alice.json()["errors"].keys() == {"customer"}
    assert fake_stripe.requests == []

    response = bobs_browser.post(URL)
    assert response.status_code == 201
    assert response.json()["customer"] == bob.customer_id
    (made,) = fake_stripe.customer_sessions
    assert made["customer"] == bob.customer_id
    assert StripeCustomer.objects.get(user=alice.user).customer_id == alice.customer_id


def test_the_customer_can_not_be_named_in_a_form_or_the_query_string(fake_stripe):
    alice = StripeCustomerFactory(customer_id=fake_stripe.create_customer()["id"])
    bob = UserFactory()
    client = signed_in(bob)

    form = client.post(URL, data={"customer": alice.customer_id})
    assert form.status_code == 400
    query = client.post(f"{URL}?customer={alice.customer_id}")
    assert query.status_code == 201
    assert query.json()["customer"] != alice.customer_id
    assert {s["customer"] for s in fake_stripe.customer_sessions} == {query.json()["customer"]}


@pytest.mark.parametrize(
    ("cookie", "header"),
    [("a" * 32, "b" * 32), ("a" * 32, ""), ("", "a" * 32)],
    ids=["mismatch", "no-header", "no-cookie"],
)
def test_csrf_token_must_match_the_cookie(fake_stripe, cookie, header):
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    if cookie:
        client.cookies[settings.CSRF_COOKIE_NAME] = cookie
    extra = {"HTTP_X_CSRFTOKEN": header} if header else {}

    response = client.post(URL, **extra)

    assert_refused(response, fake_stripe, code="permission_denied")
    assert "CSRF" in response.json()["detail"]


def test_csrf_is_enforced_for_form_posts_from_another_site(fake_stripe):
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    response = client.post(
        URL, data={"components": "payment_element"}, HTTP_ORIGIN="https://evil.example"
    )
    assert_refused(response, fake_stripe, code="permission_denied")


def test_credentials_an_authentication_class_refuses_get_authentication_failed(fake_stripe):
    """A site that adds DRF's token or basic authentication: a bad token or password is a
    JSON 401 with the code docs/endpoint.md gives, and Stripe is not called."""
    user = UserFactory()
    view = CustomerSessionView.as_view(authentication_classes=[BasicAuthentication])
    wrong = b64encode(f"{user.username}:not-the-password".encode()).decode()
    request = RequestFactory().post(
        URL, {}, "application/json", HTTP_AUTHORIZATION=f"Basic {wrong}"
    )
    response = view(request).render()
    assert response.status_code == 401, response.content
    assert json.loads(response.content)["code"] == "authentication_failed"
    assert fake_stripe.requests == []
