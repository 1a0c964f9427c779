"""The async endpoint reads the mapping as it is when the session is made: a customer
deleted in Stripe is replaced exactly once, and later changes of the mapping are seen."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from customer_sessions.models import ReplacedStripeCustomer, StripeCustomer
from customer_sessions.services import create_customer_session

from .conftest import customer_creates
from .factories import UserFactory

URL = "/api/customer-session/"


@pytest.fixture
def asgi_urls(settings):  # type: ignore[no-untyped-def]
    settings.ROOT_URLCONF = "tests.urls_async"


def post_as(user: Any) -> Any:
    async def scenario() -> Any:
        client = AsyncClient()
        await client.aforce_login(user)
        return await client.post(URL)

    return async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_deleted_customer_is_replaced_once_through_the_async_endpoint(fake_stripe, asgi_urls):
    user = UserFactory()
    old = create_customer_session(user).customer
    fake_stripe.delete_customer(old)

    response = post_as(user)

    assert response.status_code == 201, response.content
    new = response.json()["customer"]
    assert new != old
    assert StripeCustomer.objects.get(user=user).customer_id == new
    assert ReplacedStripeCustomer.objects.get(user=user).customer_id == old
    assert customer_creates(fake_stripe) == 2  # the first one, and its one replacement


@pytest.mark.django_db(transaction=True)
def test_later_sessions_reuse_the_customer_the_first_one_made(fake_stripe, asgi_urls):
    user = UserFactory()

    first, second = post_as(user), post_as(user)

    assert first.status_code == second.status_code == 201
    assert first.json()["customer"] == second.json()["customer"]
    assert customer_creates(fake_stripe) == 1
