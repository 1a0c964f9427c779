"""The DRF endpoint, POST /api/customer-session/."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from customer_sessions.models import StripeCustomer

from .conftest import customer_creates, session_creates
from .factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/customer-session/"


def post(client: Client, body: Any = None, **extra: Any):  # type: ignore[no-untyped-def]
    if body is None:
        return client.post(URL, **extra)
    return client.post(URL, data=json.dumps(body), content_type="application/json", **extra)


def test_url_is_mounted_where_the_docs_say():
    assert reverse("customer_sessions:customer-session") == URL


def test_signed_in_user_gets_a_fresh_session(fake_stripe, signed_in, user):
    first = post(signed_in)
    second = post(signed_in, {})

    assert first.status_code == 201, first.content
    assert second.status_code == 201
    body = first.json()
    assert set(body) == {"client_secret", "expires_at", "customer"}
    assert body["client_secret"].startswith("cuss_secret_")
    assert body["client_secret"] != second.json()["client_secret"]
    assert body["customer"] == StripeCustomer.objects.get(user=user).customer_id
    assert isinstance(body["expires_at"], int)
    assert first["Content-Type"] == "application/json"
    cache_control = {p.strip() for p in first["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= cache_control
    assert customer_creates(fake_stripe) == 1


def test_components_preset_from_the_body(fake_stripe, signed_in):
    response = post(signed_in, {"components": "pricing_table"})
    assert response.status_code == 201
    assert set(fake_stripe.requests[-1].params["components"]) == {"pricing_table"}


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"customer": "cus_someone_else"}, "customer", "unknown_field"),
        ({"components": "pricing_table", "customer": "cus_x"}, "customer", "unknown_field"),
        ({"components": "no-such-preset"}, "components", "unknown_components"),
        ({"components": 5}, "components", None),
        ({"components": ""}, "components", None),
    ],
)
def test_bad_body_is_400_and_never_reaches_stripe(fake_stripe, signed_in, body, field, code):
    response = post(signed_in, body)

    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == "invalid"
    assert field in payload["errors"]
    assert fake_stripe.requests == []
    assert StripeCustomer.objects.count() == 0
    if code == "unknown_components":
        assert "payment_element" in payload["errors"][field][0]


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        ("[1, 2]", "application/json", 400, "invalid"),
        ("{not json", "application/json", 400, "parse_error"),
        ("components", "text/plain", 415, "unsupported_media_type"),
        ("customer=cus_x", "application/x-www-form-urlencoded", 400, "invalid"),
    ],
)
def test_malformed_requests_get_json_errors(
    fake_stripe, signed_in, raw, content_type, status, code
):
    response = signed_in.post(URL, data=raw, content_type=content_type)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == code
    assert fake_stripe.requests == []


def test_anonymous_is_refused_without_calling_stripe(fake_stripe, client):
    response = post(client)
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"
    assert fake_stripe.requests == []


def test_inactive_user_is_refused(fake_stripe, client, db):
    client.force_login(UserFactory(is_active=False))
    response = post(client)
    assert response.status_code in (401, 403)
    assert fake_stripe.requests == []


def test_get_is_not_allowed(fake_stripe, signed_in):
    response = signed_in.get(URL)
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_csrf_is_enforced_with_session_auth(fake_stripe, csrf_client):
    refused = post(csrf_client)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert fake_stripe.requests == []

    csrf_client.get("/accounts/login/")  # sets the CSRF cookie
    token = csrf_client.cookies["csrftoken"].value
    accepted = post(csrf_client, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        (lambda f: f.fail_next(500, times=None), 503, "stripe_unavailable"),
        (lambda f: f.drop_next(times=None), 503, "stripe_unavailable"),
        (lambda f: f.fail_next(429, times=None), 503, "stripe_rate_limited"),
        (lambda f: f.fail_next(401), 500, "stripe_misconfigured"),
        (lambda f: f.fail_next(403), 500, "stripe_misconfigured"),
        (lambda f: f.fail_next(400), 500, "stripe_invalid_request"),
    ],
    ids=["500", "dropped", "429", "401", "403", "400"],
)
def test_stripe_failures_are_json_with_a_stable_code(
    fake_stripe, signed_in, settings, fault, status, code
):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "MAX_NETWORK_RETRIES": 0}
    fault(fake_stripe)
    response = post(signed_in)

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == code
    assert fake_stripe.secret_key not in response.content.decode()
    if status == 503:
        assert int(response["Retry-After"]) >= 1
    assert "no-store" in response["Cache-Control"]


def test_missing_key_answers_500_naming_the_setting(signed_in, settings):
    settings.CUSTOMER_SESSIONS = {}
    response = post(signed_in)
    assert response.status_code == 500
    assert response.json() == {
        "code": "stripe_misconfigured",
        "detail": response.json()["detail"],
    }
    assert "CUSTOMER_SESSIONS['SECRET_KEY']" in response.json()["detail"]


def test_throttle_engages_per_user_with_retry_after(fake_stripe, signed_in, settings, db):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "THROTTLE_RATE": "3/min"}
    statuses = [post(signed_in).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    limited = post(signed_in)
    assert limited.json()["code"] == "throttled"
    assert int(limited["Retry-After"]) > 0
    assert session_creates(fake_stripe) == 3

    other = Client()
    other.force_login(UserFactory())
    assert post(other).status_code == 201


def test_site_can_tune_the_throttle_scope(fake_stripe, signed_in, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"customer_session": "1/min"},
    }
    assert [post(signed_in).status_code for _ in range(2)] == [201, 429]


def test_connected_account_comes_from_the_request(fake_stripe, signed_in, settings, user):
    settings.CUSTOMER_SESSIONS = {
        **settings.CUSTOMER_SESSIONS,
        # A site's own rule, e.g. the shop the signed-in user belongs to.
        "ACCOUNT": lambda request: f"acct_shop{request.user.pk}",
    }
    response = post(signed_in)
    assert response.status_code == 201
    assert fake_stripe.requests[-1].stripe_account == f"acct_shop{user.pk}"
    assert StripeCustomer.objects.get(user=user).account == f"acct_shop{user.pk}"
