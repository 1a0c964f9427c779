"""Transactions never orphan a customer: a user's first customer survives a rollback.

A site with ``ATOMIC_REQUESTS = True``, or any ``transaction.atomic()`` block of its own,
rolls the user's claim row back with a request that fails after the customer was made.
The claim's idempotency key is derived from the user, so the next attempt sends Stripe
the same key and Stripe replays the customer it made: one customer per user, mapped.
These tests are transactional (``transaction=True``) so that the rollback is a real one,
on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

import re

import pytest
from django.db import connections, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.test import Client
from django.urls import include, path

from customer_sessions.models import StripeCustomer
from customer_sessions.services import create_customer_session, get_or_create_customer

from ..conftest import customer_creates

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = re.compile(r"cuss_secret_[A-Za-z0-9]+")


class AfterTheSecret(Exception):
    """The site's view fails after the app made the user's customer."""


def failing_page(request: HttpRequest) -> HttpResponse:
    response = render(request, "caching/page.html")
    if request.GET.get("fail"):
        raise AfterTheSecret
    return response


def failing_api(request: HttpRequest) -> JsonResponse:
    session = create_customer_session(request.user)  # type: ignore[arg-type]
    if request.GET.get("fail"):
        raise AfterTheSecret
    return JsonResponse({"client_secret": session.client_secret})


urlpatterns = [
    path("page/", failing_page),
    path("python-api/", failing_api),
    path("api/", include("customer_sessions.urls")),
]


@pytest.fixture
def atomic_requests(settings, monkeypatch):  # type: ignore[no-untyped-def]
    from pathlib import Path

    settings.ROOT_URLCONF = __name__
    templates = Path(__file__).parent.parent / "templates"
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [templates, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    monkeypatch.setitem(connections["default"].settings_dict, "ATOMIC_REQUESTS", True)


def one_customer_per_user(fake_stripe, user) -> str:  # type: ignore[no-untyped-def]
    mapped = StripeCustomer.objects.get(user=user).customer_id
    assert [c["id"] for c in fake_stripe.customers] == [mapped]
    return mapped


@pytest.mark.parametrize("url", ["/page/", "/python-api/"], ids=["tag", "python-api"])
def test_atomic_requests_rollback_then_the_same_customer(fake_stripe, user, atomic_requests, url):
    client = Client(raise_request_exception=False)
    client.force_login(user)

    failed = client.get(url + "?fail=1")
    assert failed.status_code == 500
    assert not StripeCustomer.objects.filter(user=user).exists()  # rolled back
    assert len(fake_stripe.customers) == 1  # Stripe made one

    ok = client.get(url)
    assert ok.status_code == 200
    assert SECRET.search(ok.content.decode())
    mapped = one_customer_per_user(fake_stripe, user)
    creates = [r for r in fake_stripe.requests if r.path == "/v1/customers"]
    assert len({r.idempotency_key for r in creates}) == 1
    assert creates[-1].replayed is True
    assert fake_stripe.customer_sessions[-1]["customer"] == mapped


def test_the_endpoint_under_atomic_requests_keeps_its_customer(fake_stripe, user, atomic_requests):
    client = Client()
    client.force_login(user)
    fake_stripe.fail_next(500, path="/v1/customer_sessions", times=3)
    assert client.post("/api/customer-session/").status_code == 503

    assert client.post("/api/customer-session/").status_code == 201
    one_customer_per_user(fake_stripe, user)
    assert customer_creates(fake_stripe) == 1


def test_a_sites_atomic_block_that_fails_then_the_same_customer(fake_stripe, user):
    with pytest.raises(AfterTheSecret), transaction.atomic():
        first = get_or_create_customer(user)
        raise AfterTheSecret
    assert not StripeCustomer.objects.filter(user=user).exists()

    assert get_or_create_customer(user) == first
    one_customer_per_user(fake_stripe, user)


def test_nested_savepoints_that_fail_then_the_same_customer(fake_stripe, user):
    with transaction.atomic():
        with pytest.raises(AfterTheSecret), transaction.atomic():
            first = create_customer_session(user).customer
            raise AfterTheSecret
        assert create_customer_session(user).customer == first
    one_customer_per_user(fake_stripe, user)


def test_a_replacement_rolled_back_is_replayed_too(fake_stripe, user):
    old = get_or_create_customer(user)
    fake_stripe.delete_customer(old)
    with pytest.raises(AfterTheSecret), transaction.atomic():
        replacement = create_customer_session(user).customer
        raise AfterTheSecret
    assert StripeCustomer.objects.get(user=user).customer_id == old  # rolled back

    session = create_customer_session(user)

    assert session.customer == replacement
    assert [c["id"] for c in fake_stripe.customers] == [replacement]


def test_without_stripes_idempotency_a_rollback_leaves_one_unmapped_customer(fake_stripe, user):
    """What still holds when Stripe ignores the key: one mapping, one extra customer."""
    fake_stripe.honour_idempotency = False
    with pytest.raises(AfterTheSecret), transaction.atomic():
        orphan = get_or_create_customer(user)
        raise AfterTheSecret

    mapped = get_or_create_customer(user)

    assert mapped != orphan
    assert StripeCustomer.objects.get(user=user).customer_id == mapped
    assert sorted(c["id"] for c in fake_stripe.customers) == sorted([orphan, mapped])
    # The unmapped one still names its user, so it can be found in the dashboard.
    [left] = [c for c in fake_stripe.customers if c["id"] == orphan]
    assert left["metadata"] == {"django_user_id": str(user.pk)}
