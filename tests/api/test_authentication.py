"""The endpoint authenticates with whatever a site configures for DRF, not only sessions.

Both views take ``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]`` (DRF reads it once,
when ``APIView`` is imported, so a test cannot change it afterwards: the views are mounted
here with the classes a site would configure, passed to ``as_view`` as DRF allows). The
demo's own settings, with DRF's token, are tested in tests/browser/test_demo_mobile.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.test import AsyncClient, Client, override_settings
from django.urls import path
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from customer_sessions.api.async_views import AsyncCustomerSessionView
from customer_sessions.api.views import CustomerSessionView
from customer_sessions.models import StripeCustomer

from ..factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/customer-session/"


class SignedBearerAuthentication(authentication.BaseAuthentication):
    """A site's own scheme: ``Authorization: Bearer <user pk signed with SECRET_KEY>``."""

    salt = "tests.app-bearer"

    def authenticate(self, request: Any) -> tuple[Any, str] | None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer":
            return None
        try:
            pk = signing.loads(value, salt=self.salt, max_age=300)
        except signing.BadSignature as exc:
            raise exceptions.AuthenticationFailed("Bad bearer token.") from exc
        user = get_user_model().objects.filter(pk=pk, is_active=True).first()
        if user is None:
            raise exceptions.AuthenticationFailed("No such user.")
        return user, value

    def authenticate_header(self, request: Any) -> str:
        return "Bearer"

    @classmethod
    def credentials_of(cls, user: Any) -> str:
        return "Bearer " + signing.dumps(user.pk, salt=cls.salt)


def _token(user: Any) -> str:
    return f"Token {Token.objects.get_or_create(user=user)[0].key}"


SCHEMES = {
    "drf-token": (authentication.TokenAuthentication, _token, "Token"),
    "site-bearer": (
        SignedBearerAuthentication,
        SignedBearerAuthentication.credentials_of,
        "Bearer",
    ),
}
VIEWS = {"sync": CustomerSessionView, "async": AsyncCustomerSessionView}


@pytest.fixture(params=[(s, v) for s in SCHEMES for v in VIEWS], ids="-".join)
def mounted(request: pytest.FixtureRequest) -> Any:
    scheme, kind = request.param
    auth_class, credentials_of, header = SCHEMES[scheme]
    urls = type(
        "Urls",
        (),
        {
            "urlpatterns": [
                path(
                    URL.lstrip("/"),
                    VIEWS[kind].as_view(authentication_classes=[auth_class]),
                )
            ]
        },
    )
    with override_settings(ROOT_URLCONF=urls):
        yield kind, credentials_of, header


def post(kind: str, credentials: str | None, body: Any = None) -> Any:
    headers = {"Authorization": credentials} if credentials else {}
    data = json.dumps(body or {})
    if kind == "sync":
        client = Client(enforce_csrf_checks=True)
        return client.post(URL, data, content_type="application/json", headers=headers)
    client = AsyncClient(enforce_csrf_checks=True)
    return async_to_sync(client.post)(URL, data, content_type="application/json", headers=headers)


def test_both_views_take_the_sites_default_authentication_classes() -> None:
    configured = settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]
    for view in VIEWS.values():
        names = [f"{c.__module__}.{c.__qualname__}" for c in view.authentication_classes]
        assert names == configured, view


def test_a_configured_class_authenticates_without_csrf(mounted, fake_stripe):
    kind, credentials_of, _ = mounted
    user = UserFactory()

    response = post(kind, credentials_of(user), {"components": "customer_sheet"})

    assert response.status_code == 201, response.content
    assert response.json()["customer"] == StripeCustomer.objects.get(user=user).customer_id
    assert {"no-store", "private"} <= {p.strip() for p in response["Cache-Control"].split(",")}


def test_refused_credentials_are_the_classes_401_with_a_stable_code(mounted, fake_stripe):
    kind, credentials_of, header = mounted
    user = UserFactory()
    good = credentials_of(user)
    forged = good[:-4] + ("aaaa" if not good.endswith("aaaa") else "bbbb")

    anonymous = post(kind, None)
    refused = post(kind, forged)

    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
    assert (refused.status_code, refused.json()["code"]) == (401, "authentication_failed")
    assert refused["WWW-Authenticate"] == header
    assert "no-store" in refused["Cache-Control"]
    assert fake_stripe.requests == []


def test_the_throttle_counts_the_authenticated_user(mounted, fake_stripe, settings):
    kind, credentials_of, _ = mounted
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "THROTTLE_RATE": "2/min"}
    busy, other = UserFactory(), UserFactory()

    answers = [post(kind, credentials_of(busy)).status_code for _ in range(3)]

    assert answers == [201, 201, 429]
    assert post(kind, credentials_of(other)).status_code == 201
