"""Concurrent first requests of a new user: one Stripe customer, one row, every request served.

Real threads with their own database connections, against the Stripe double over HTTP, with
the double ignoring Idempotency-Key and slow to create customers, so only the database can
keep the requests from creating duplicates. Runs on SQLite (file database, IMMEDIATE
transactions) and, in CI, on PostgreSQL.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connections
from django.test import Client

from customer_sessions.models import ReplacedStripeCustomer, StripeCustomer
from customer_sessions.services import (
    create_customer_session,
    forget_customer,
    get_or_create_customer,
)

from ..conftest import customer_creates
from ..factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run_at_once(n: int, func: Callable[[int], Any]) -> list[Any]:
    """Run ``func(i)`` in ``n`` threads released together; each closes its DB connection."""
    barrier = threading.Barrier(n)

    def task(i: int) -> Any:
        try:
            barrier.wait(timeout=30)
            return func(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(task, range(n)))


@pytest.mark.parametrize("honour_idempotency", [False, True], ids=["ignored", "honoured"])
def test_concurrent_first_sessions_make_one_customer(fake_stripe, honour_idempotency):
    fake_stripe.honour_idempotency = honour_idempotency
    fake_stripe.delay(0.3, path="/v1/customers", method="POST")
    user = UserFactory()

    sessions = run_at_once(16, lambda i: create_customer_session(user))

    assert len(fake_stripe.customers) == 1
    assert customer_creates(fake_stripe) == 1
    assert StripeCustomer.objects.filter(user=user).count() == 1
    customer = StripeCustomer.objects.get(user=user).customer_id
    assert {s.customer for s in sessions} == {customer}
    assert len({s.client_secret for s in sessions}) == 16


def test_many_new_users_at_once_each_get_exactly_one_customer(fake_stripe):
    fake_stripe.honour_idempotency = False
    fake_stripe.delay(0.05, path="/v1/customers", method="POST")
    users = UserFactory.create_batch(6)

    sessions = run_at_once(24, lambda i: create_customer_session(users[i % 6]))

    assert len(fake_stripe.customers) == 6
    assert StripeCustomer.objects.count() == 6
    by_user = dict(StripeCustomer.objects.values_list("user_id", "customer_id"))
    for i, session in enumerate(sessions):
        assert session.customer == by_user[users[i % 6].pk]


def test_concurrent_endpoint_requests_all_answer_201(fake_stripe):
    fake_stripe.honour_idempotency = False
    fake_stripe.delay(0.2, path="/v1/customers", method="POST")
    user = UserFactory()

    def request(i: int) -> tuple[int, dict[str, Any]]:
        client = Client()
        client.force_login(user)
        response = client.post("/api/customer-session/")
        return response.status_code, json.loads(response.content)

    results = run_at_once(10, request)

    assert [status for status, _ in results] == [201] * 10, results
    assert len({body["customer"] for _, body in results}) == 1
    assert len(fake_stripe.customers) == 1
    assert StripeCustomer.objects.filter(user=user).count() == 1


def test_a_failed_first_attempt_under_contention_still_ends_with_one_customer(
    fake_stripe, settings
):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "MAX_NETWORK_RETRIES": 0}
    fake_stripe.honour_idempotency = True
    fake_stripe.drop_next(path="/v1/customers", method="POST", mid_response=True)
    user = UserFactory()

    def attempt(i: int) -> str:
        try:
            return create_customer_session(user).customer
        except Exception as exc:  # noqa: BLE001 - the failed attempt is part of the test
            return type(exc).__name__

    results = run_at_once(8, attempt)

    assert results.count("StripeUnavailable") == 1
    assert len(fake_stripe.customers) == 1
    customer = StripeCustomer.objects.get(user=user).customer_id
    assert [r for r in results if r != "StripeUnavailable"] == [customer] * 7


def test_simultaneous_replacements_never_overshoot_the_limit(fake_stripe, settings):
    """Unconfirmed disappearances forgotten at once (verify --fix in several processes)."""
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "REPLACEMENT_LIMIT": 4}
    users = UserFactory.create_batch(12)
    customers = [get_or_create_customer(user) for user in users]

    def attempt(i: int) -> str:
        try:
            forget_customer(customers[i], "missing")
            return "replaced"
        except Exception as exc:  # noqa: BLE001 - the refusals are part of the test
            return type(exc).__name__

    results = run_at_once(12, attempt)

    assert sorted(results) == ["TooManyReplacements"] * 8 + ["replaced"] * 4
    assert ReplacedStripeCustomer.objects.count() == 4
    assert StripeCustomer.objects.filter(customer_id="").count() == 4


def test_the_claims_own_lock_keeps_one_customer_without_sqlites_immediate_mode(
    fake_stripe, monkeypatch
):
    """The lock is the claim's: proven on SQLite in its default (DEFERRED) mode too.

    In IMMEDIATE mode every transaction takes SQLite's write lock when it begins, which
    would hide a claim that forgot to lock its row: here each thread's connection begins
    DEFERRED, so only the claim's first write (the lock) keeps two requests apart. On
    PostgreSQL the other tests of this module prove the row lock itself.
    """
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's transaction modes; PostgreSQL's row lock is proven above")
    options = connection.settings_dict.setdefault("OPTIONS", {})
    monkeypatch.setitem(options, "transaction_mode", "DEFERRED")
    fake_stripe.honour_idempotency = False
    fake_stripe.delay(0.3, path="/v1/customers", method="POST")
    user = UserFactory()

    customers = run_at_once(8, lambda i: get_or_create_customer(user))

    assert len(fake_stripe.customers) == 1
    assert set(customers) == {StripeCustomer.objects.get(user=user).customer_id}
