"""The endpoint's throttle counts across app servers when they share a Redis cache.

Two app servers (separate gunicorn processes, as on two machines) serve one user in turn.
With ``REDIS_URL`` they share Django's cache and the user's 61st request within the minute
is refused wherever it lands; without it, each process counts on its own and lets it
through, which is why docs/reliability.md asks multi-server sites for a shared cache.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from customer_sessions.conf import DEFAULTS

from ..conftest import session_creates
from ..factories import UserFactory
from ..servers import browser_cookies, gunicorn, redis_server

URL = "/api/customer-session/"
LIMIT = int(DEFAULTS["THROTTLE_RATE"].split("/")[0])  # 60 a minute, the demo's rate

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    if shutil.which("redis-server") is None and not os.environ.get("TEST_REDIS_URL"):
        pytest.skip("redis-server is not installed (apt-get install redis-server; CI does)")
    with redis_server() as url:
        redis.Redis.from_url(url).flushdb()  # no counts left from an earlier run
        yield url


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "per-process-memory"])
def test_throttle_counts_across_app_servers(fake_stripe, django_db_setup, redis_url, shared):
    env = {"REDIS_URL": redis_url} if shared else {}
    cookies, headers = browser_cookies(UserFactory(password=None))
    args = ["--workers", "1", "--worker-class", "sync", "--preload"]
    common = {"stripe_url": fake_stripe.url, "stripe_key": fake_stripe.secret_key, "env": env}
    with gunicorn(args, **common) as one, gunicorn(args, **common) as two:

        def post(site_url: str) -> requests.Response:
            return requests.post(site_url + URL, cookies=cookies, headers=headers, timeout=30)

        # The user's first LIMIT requests alternate between the two servers.
        first = [post((one, two)[i % 2].url).status_code for i in range(LIMIT)]
        assert Counter(first) == {201: LIMIT}
        over = [post(one.url), post(two.url)]

    if shared:
        assert [r.status_code for r in over] == [429, 429]
        for response in over:
            assert response.json()["code"] == "throttled"
            assert 0 < int(response.headers["Retry-After"]) <= 60
        assert session_creates(fake_stripe) == LIMIT
    else:
        # Each process saw only half the requests: the limit is not enforced site-wide.
        assert [r.status_code for r in over] == [201, 201]
    print("measured:", f"shared={shared}: {LIMIT} x 201, then {[r.status_code for r in over]}")


def test_a_burst_of_parallel_requests_gets_exactly_the_limit(
    fake_stripe, django_db_setup, redis_url
):
    """One account firing many requests at once, at several servers, cannot get past the
    limit: the count is one atomic counter in the shared cache, not a list that parallel
    requests each read and overwrite."""
    cookies, headers = browser_cookies(UserFactory(password=None))
    args = ["--workers", "2", "--worker-class", "gthread", "--threads", "8", "--preload"]
    common = {
        "stripe_url": fake_stripe.url,
        "stripe_key": fake_stripe.secret_key,
        "env": {"REDIS_URL": redis_url},
    }
    burst = LIMIT + 40
    with gunicorn(args, **common) as one, gunicorn(args, **common) as two:
        barrier = threading.Barrier(burst)

        def post(i: int) -> int:
            barrier.wait(timeout=30)
            site = (one, two)[i % 2]
            return requests.post(
                site.url + URL, cookies=cookies, headers=headers, timeout=60
            ).status_code

        with ThreadPoolExecutor(max_workers=burst) as pool:
            statuses = Counter(pool.map(post, range(burst)))

    assert statuses == {201: LIMIT, 429: burst - LIMIT}
    assert session_creates(fake_stripe) == LIMIT
    print("measured:", f"burst of {burst} parallel requests over 2 servers: {dict(statuses)}")
