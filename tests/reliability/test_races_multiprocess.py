"""Concurrent first requests across server processes: one Stripe customer per user.

The demo site runs under gunicorn, in several worker processes (sync workers, and
threaded gthread workers), against the suite's database: SQLite in ``make test``,
PostgreSQL in CI's second pass. Browsers are real HTTP clients holding a session cookie.
The Stripe double is slow to create customers and, in the harshest variant, ignores
``Idempotency-Key``, so only the database can stop a second customer being made.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from django.db import connection

from customer_sessions.models import ReplacedStripeCustomer, StripeCustomer
from customer_sessions.testing import FakeStripe

from ..conftest import customer_creates
from ..factories import StripeCustomerFactory, UserFactory
from ..servers import Site, browser_cookies, gunicorn

URL = "/api/customer-session/"
#: Seconds the double takes to create a customer: long enough that every request of the
#: burst arrives while the first creation is still in flight.
SLOW_CREATE = 0.5

SERVERS = {
    "sync-4-workers": ["--workers", "4", "--worker-class", "sync", "--preload"],
    "gthread-2x8": ["--workers", "2", "--worker-class", "gthread", "--threads", "8", "--preload"],
}


@pytest.fixture(scope="module", params=list(SERVERS))
def site(
    request: pytest.FixtureRequest, django_db_setup: None, fake_stripe_server: FakeStripe
) -> Iterator[Site]:
    with gunicorn(
        SERVERS[request.param],
        stripe_url=fake_stripe_server.url,
        stripe_key=fake_stripe_server.secret_key,
    ) as running:
        running.name = f"{request.param} on {connection.vendor}"
        yield running


def burst(site: Site, browsers: list[tuple[dict[str, str], dict[str, str]]]) -> list[Any]:
    """POST once per browser, all released at the same moment; (status, body) each."""
    barrier = threading.Barrier(len(browsers))

    def post(browser: tuple[dict[str, str], dict[str, str]]) -> tuple[int, Any]:
        cookies, headers = browser
        barrier.wait(timeout=30)
        response = requests.post(site.url + URL, cookies=cookies, headers=headers, timeout=60)
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
        return list(pool.map(post, browsers))


def timed(func: Callable[[], Any]) -> tuple[Any, float]:
    start = time.monotonic()
    result = func()
    return result, time.monotonic() - start


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("honour_idempotency", [False, True], ids=["keys-ignored", "keys-honoured"])
def test_fifty_first_requests_of_one_user_make_one_customer(site, fake_stripe, honour_idempotency):
    fake_stripe.honour_idempotency = honour_idempotency
    fake_stripe.delay(SLOW_CREATE, path="/v1/customers", method="POST")
    user = UserFactory(password=None)
    browser = browser_cookies(user)

    results, seconds = timed(lambda: burst(site, [browser] * 50))

    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 50}, (results, site.output())
    row = StripeCustomer.objects.get(user=user)  # exactly one row, or this raises
    assert {body["customer"] for _, body in results} == {row.customer_id}
    assert [c["id"] for c in fake_stripe.customers] == [row.customer_id]
    assert customer_creates(fake_stripe) == 1
    assert len({body["client_secret"] for _, body in results}) == 50
    # Bounded wait: the burst costs one slow creation plus ordinary request handling,
    # not one creation per request (which would take 50 x SLOW_CREATE / workers).
    assert seconds < 20, seconds
    # The servers' own log says what happened, and never holds a secret or the API key.
    log = site.output()
    assert f"Created Stripe customer {row.customer_id} for user {user.pk}" in log
    assert "cuss_secret" not in log
    assert fake_stripe.secret_key not in log
    keys = "honoured" if honour_idempotency else "ignored"
    print("measured:", f"{site.name}, keys {keys}: 50 requests, 1 customer, 1 row, {seconds:.2f} s")


@pytest.fixture(scope="module")
def account_site(django_db_setup: None, fake_stripe_server: FakeStripe) -> Iterator[Site]:
    """The demo in account mode (``CUSTOMER_OBJECT = "account"``), 4 sync workers."""
    with gunicorn(
        SERVERS["sync-4-workers"],
        stripe_url=fake_stripe_server.url,
        stripe_key=fake_stripe_server.secret_key,
        env={"CUSTOMER_SESSIONS_CUSTOMER_OBJECT": "account"},
    ) as running:
        running.name = f"sync-4-workers, accounts, on {connection.vendor}"
        yield running


@pytest.mark.django_db(transaction=True)
def test_fifty_first_requests_of_one_user_make_one_customer_account(account_site, fake_stripe):
    """The same race with customer-configured Accounts: one ``POST /v2/core/accounts``, the
    double ignoring ``Idempotency-Key``, so only the claim and its lock stop a second."""
    fake_stripe.honour_idempotency = False
    fake_stripe.delay(SLOW_CREATE, path="/v2/core/accounts", method="POST")
    user = UserFactory(password=None)

    results, seconds = timed(lambda: burst(account_site, [browser_cookies(user)] * 50))

    assert Counter(status for status, _ in results) == {201: 50}, (results, account_site.output())
    row = StripeCustomer.objects.get(user=user)
    assert (row.customer_object, row.customer_id) == ("account", fake_stripe.accounts[0]["id"])
    assert len(fake_stripe.accounts) == 1
    assert len(fake_stripe.requests_to("POST", "/v2/core/accounts")) == 1
    assert customer_creates(fake_stripe) == 0
    sent = fake_stripe.requests_to("POST", "/v1/customer_sessions")
    assert len(sent) == 50
    assert all(r.params.get("customer_account") == row.customer_id for r in sent)
    assert all("customer" not in r.params for r in sent)
    assert len({body["client_secret"] for _, body in results}) == 50
    assert seconds < 20, seconds
    print("measured:", f"{account_site.name}: 50 requests, 1 account, 1 row, {seconds:.2f} s")


@pytest.mark.django_db(transaction=True)
def test_twenty_new_users_at_once_each_get_exactly_one_customer(site, fake_stripe):
    fake_stripe.honour_idempotency = False
    # Less slow here: on SQLite every first-time creation holds the database's one write
    # lock while Stripe answers, so 20 creations queue behind each other (on PostgreSQL
    # each user's row is locked on its own).
    fake_stripe.delay(SLOW_CREATE / 2, path="/v1/customers", method="POST")
    users = UserFactory.create_batch(20, password=None)
    browsers = [browser_cookies(user) for user in users]

    results, seconds = timed(lambda: burst(site, browsers * 3))

    assert Counter(status for status, _ in results) == {201: 60}, (results, site.output())
    rows = dict(StripeCustomer.objects.values_list("user_id", "customer_id"))
    assert sorted(rows) == sorted(user.pk for user in users)
    per_user = Counter(c["metadata"]["django_user_id"] for c in fake_stripe.customers)
    assert per_user == {str(user.pk): 1 for user in users}
    assert customer_creates(fake_stripe) == 20
    for i, (_, body) in enumerate(results):
        assert body["customer"] == rows[users[i % 20].pk]
    assert seconds < 30, seconds
    print("measured:", f"{site.name}: 60 requests, 20 customers, 20 rows, {seconds:.2f} s")


@pytest.mark.django_db(transaction=True)
def test_fifty_requests_for_a_deleted_customer_replace_it_once(site, fake_stripe):
    fake_stripe.honour_idempotency = False
    user = UserFactory(password=None)
    old = fake_stripe.create_customer(metadata={"django_user_id": str(user.pk)})["id"]
    StripeCustomerFactory(user=user, customer_id=old)
    fake_stripe.delete_customer(old)  # deleted in the dashboard, say
    fake_stripe.delay(SLOW_CREATE, path="/v1/customers", method="POST")

    results, seconds = timed(lambda: burst(site, [browser_cookies(user)] * 50))

    assert Counter(status for status, _ in results) == {201: 50}, (results, site.output())
    new = StripeCustomer.objects.get(user=user).customer_id
    assert new != old
    assert {body["customer"] for _, body in results} == {new}
    assert [c["id"] for c in fake_stripe.customers] == [new]
    assert customer_creates(fake_stripe) == 1
    replaced = ReplacedStripeCustomer.objects.get(user=user)  # exactly one record
    assert replaced.customer_id == old
    print("measured:", f"{site.name}: 50 requests, 1 replacement, 1 new customer, {seconds:.2f} s")
