"""A flood of Customer Sessions leaves the site's payments their share of Stripe's writes.

Stripe limits each account's writes (25 a second in test mode); the double enforces the
limit (``limit_writes``). The demo runs under gunicorn (2 workers, threads) with a shared
Redis cache and ``SITE_SESSION_RATE = "10/s"``; 40 signed-in clients ask for sessions as
fast as they can for 4 seconds while the site itself creates 8 PaymentIntents a second.
The budget holds the sessions to about 10 a second, so every payment goes through; what
happens without it is measured by ``make bench`` (docs/benchmarks.md, ``flood`` row).
"""

from __future__ import annotations

import itertools
import math
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests
import stripe

from ..conftest import session_creates
from ..factories import StripeCustomerFactory, UserFactory
from ..servers import browser_cookies, gunicorn, redis_server

URL = "/api/customer-session/"
CLIENTS = 40
USERS_PER_CLIENT = 5
SECONDS = 4.0
PAYMENTS_PER_SECOND = 8
SITE_RATE = 10
STRIPE_WRITE_LIMIT = 25  # Stripe's own, in test mode

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    if shutil.which("redis-server") is None and not os.environ.get("TEST_REDIS_URL"):
        pytest.skip("redis-server is not installed (apt-get install redis-server; CI does)")
    with redis_server() as url:
        redis.Redis.from_url(url).flushdb()
        yield url


def test_a_session_flood_within_the_budget_refuses_no_payment(
    fake_stripe, django_db_setup, redis_url
):
    signed_in = []
    # Users who have their customer already (sessions only), five per client so that no
    # user reaches their own THROTTLE_RATE (60 a minute) within the flood.
    for _ in range(CLIENTS * USERS_PER_CLIENT):
        customer = fake_stripe.create_customer()
        mapping = StripeCustomerFactory(customer_id=customer["id"], user=UserFactory(password=None))
        signed_in.append(browser_cookies(mapping.user))
    shop = stripe.StripeClient(
        fake_stripe.secret_key, base_addresses={"api": fake_stripe.url}, max_network_retries=0
    )
    fake_stripe.limit_writes(STRIPE_WRITE_LIMIT)
    args = ["--workers", "2", "--worker-class", "gthread", "--threads", "8", "--preload"]
    env = {"REDIS_URL": redis_url, "SITE_SESSION_RATE": f"{SITE_RATE}/s"}
    common = {"stripe_url": fake_stripe.url, "stripe_key": fake_stripe.secret_key, "env": env}

    with gunicorn(args, **common) as site:
        start = threading.Barrier(CLIENTS + 1)
        answers: list[tuple[int, str, str | None]] = []

        def flood(client: int) -> None:
            mine = itertools.cycle(signed_in[client::CLIENTS])
            with requests.Session() as browser:
                start.wait(timeout=30)
                until = time.monotonic() + SECONDS
                while time.monotonic() < until:
                    cookies, headers = next(mine)
                    browser.cookies.clear()
                    r = browser.post(site.url + URL, cookies=cookies, headers=headers, timeout=30)
                    code = r.json().get("code", "") if r.status_code != 201 else ""
                    answers.append((r.status_code, code, r.headers.get("Retry-After")))

        def payments() -> list[int]:
            start.wait(timeout=30)
            began, statuses = time.monotonic(), []
            for i in range(int(SECONDS * PAYMENTS_PER_SECOND)):
                time.sleep(max(0.0, began + i / PAYMENTS_PER_SECOND - time.monotonic()))
                try:
                    shop.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
                    statuses.append(200)
                except stripe.StripeError as exc:
                    statuses.append(exc.http_status or 0)
            return statuses

        flood_began = time.time()
        with ThreadPoolExecutor(max_workers=CLIENTS + 1) as pool:
            paid = pool.submit(payments)
            list(pool.map(flood, range(CLIENTS)))
            paid_statuses = paid.result()
        flood_ended = time.time()

    statuses = Counter((status, code) for status, code, _ in answers)
    asked = session_creates(fake_stripe)
    windows = math.floor(flood_ended) - math.floor(flood_began) + 1  # the budget's seconds
    arrivals = sorted(r.time for r in fake_stripe.requests_to("POST", "/v1/customer_sessions"))
    busiest = max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals)
    print(
        "measured:",
        f"{len(answers)} session requests from {CLIENTS} clients in {SECONDS:g} s,",
        f"{dict(statuses)}; Stripe asked for {asked} sessions over {windows} budget windows,",
        f"at most {busiest} within one second;",
        f"payments {Counter(paid_statuses)}",
    )
    # Every payment the site made went through.
    assert Counter(paid_statuses) == {200: int(SECONDS * PAYMENTS_PER_SECOND)}
    # The flood was real: most requests were refused by the budget, none by Stripe.
    assert set(statuses) <= {(201, ""), (503, "site_rate_limited")}
    assert statuses[(503, "site_rate_limited")] > statuses[(201, "")]
    # Come back when the last second's sessions have aged enough: within two seconds.
    assert {after for status, _, after in answers if status == 503} <= {"1", "2"}
    # Stripe was asked for what the budget allows, no more: 10 in each second touched.
    assert statuses[(201, "")] == asked <= SITE_RATE * windows
    assert not [r for r in fake_stripe.requests if r.status == 429]
