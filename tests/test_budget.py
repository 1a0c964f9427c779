"""The site's budget of sessions (``SITE_SESSION_RATE``): counted for the whole site, refused
past it before anything reaches Stripe, and never spent twice."""

from __future__ import annotations

import re

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from customer_sessions.budget import spend_site_budget
from customer_sessions.exceptions import SiteRateLimited, StripeUnavailable
from customer_sessions.services import acreate_customer_session, create_customer_session

from .conftest import session_creates
from .factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = re.compile(r"cuss_secret_[A-Za-z0-9]+")


@pytest.fixture
def budget(settings):  # type: ignore[no-untyped-def]
    def set_budget(text: str | None) -> None:
        settings.CUSTOMER_SESSIONS = {
            **settings.CUSTOMER_SESSIONS,
            "SITE_SESSION_RATE": text,
            "THROTTLE_RATE": None,
        }

    return set_budget


def test_past_the_budget_sessions_are_refused_before_stripe(fake_stripe, budget):
    budget("3/min")
    users = UserFactory.create_batch(3)
    for user in users:
        create_customer_session(user)
    sent = session_creates(fake_stripe)

    with pytest.raises(SiteRateLimited) as info:
        create_customer_session(UserFactory())
    assert isinstance(info.value, StripeUnavailable)  # handled as Stripe being busy
    assert (info.value.status_code, info.value.code) == (503, "site_rate_limited")
    assert 1 <= info.value.retry_after <= 2 * 60  # within the next minute (sliding window)
    assert session_creates(fake_stripe) == sent == 3


def test_the_endpoint_the_tag_and_the_async_api_share_the_budget(fake_stripe, budget, user):
    budget("3/min")
    client = Client()
    client.force_login(user)
    assert client.post("/api/customer-session/").status_code == 201
    assert SECRET.search(client.get("/checkout/").content.decode())
    async_to_sync(acreate_customer_session)(user)

    refused = client.post("/api/customer-session/")
    assert refused.status_code == 503
    assert refused.json()["code"] == "site_rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 2 * 60
    page = client.get("/checkout/")
    assert page.status_code == 200 and not SECRET.search(page.content.decode())
    with pytest.raises(SiteRateLimited):
        async_to_sync(acreate_customer_session)(user)
    assert session_creates(fake_stripe) == 3


def test_the_budget_slides_so_no_second_ever_gets_more_than_the_rate(fake_stripe, budget):
    budget("2/s")  # counted exactly in 20 buckets of 0.05 s
    spend_site_budget(now=100.76)
    spend_site_budget(now=100.81)
    for _ in range(5):  # refusals spend nothing
        with pytest.raises(SiteRateLimited) as info:
            spend_site_budget(now=100.83)
        assert info.value.retry_after == 1
    # A new second, but the last one's two sessions were a moment ago: with fixed windows
    # two more would go now, four within 0.1 s of Stripe's limit; weighing the last
    # second's count by the share of it left (as if its sessions were spread evenly), one
    # more would go at 101.5, three within one second.
    for now in (101.0, 101.5, 101.79):
        with pytest.raises(SiteRateLimited):
            spend_site_budget(now=now)
    # The bucket of 100.76 leaves the window a second after it ends (101.80).
    spend_site_budget(now=101.81)
    with pytest.raises(SiteRateLimited):
        spend_site_budget(now=101.81)
    # The bucket of 100.81 has gone at 101.86, but the second is spread: 2 × 0.14 + 2 > 2.
    with pytest.raises(SiteRateLimited):
        spend_site_budget(now=101.86)
    spend_site_budget(now=102.0)


def flood(start: float, end: float, every: float) -> list[float]:
    """When the budget let sessions through, for one request every ``every`` seconds."""
    allowed = []
    now = start
    while now < end:
        try:
            spend_site_budget(now=now)
            allowed.append(now)
        except SiteRateLimited:
            pass
        now += every
    return allowed


def busiest_second(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + 1.0) for start in times)


@pytest.mark.parametrize("start", [500.37, 500.93])
def test_a_flood_never_gets_more_than_the_rate_in_any_second(fake_stripe, budget, start):
    budget("10/s")
    allowed = flood(start, 505.0, every=0.005)  # after a quiet spell
    assert busiest_second(allowed) == 10
    # What the exactness costs: about a tenth of the rate.
    assert len(allowed) >= 0.9 * 10 * (505.0 - start)


def test_a_flood_gets_its_sessions_spread_not_in_bursts(fake_stripe, budget):
    budget("10/s")
    allowed = flood(500.37, 506.0, every=0.005)
    # After the first second, never a second's worth at once: at most half of it within a
    # fifth of a second (counted exactly alone, all ten would come within 0.05 s).
    later = [t for t in allowed if t >= 502.0]
    assert max(sum(1 for t in later if start <= t < start + 0.2) for start in later) <= 5


def test_retry_after_is_when_the_budget_opens_again(fake_stripe, budget):
    budget("10/min")
    for _ in range(10):
        spend_site_budget(now=6000.0)  # the first second of a minute: all ten at once
    with pytest.raises(SiteRateLimited) as within:
        spend_site_budget(now=6030.0)
    # Next minute, the last one's ten count for all but the share gone: one fits at 6066.
    assert within.value.retry_after == 36
    with pytest.raises(SiteRateLimited) as next_minute:
        spend_site_budget(now=6060.0)
    assert next_minute.value.retry_after == 6
    spend_site_budget(now=6066.5)


def test_a_session_refused_by_its_users_throttle_spends_no_site_budget(
    fake_stripe, budget, settings, user
):
    budget("2/min")
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "THROTTLE_RATE": "1/min"}
    create_customer_session(user)
    for _ in range(3):
        with pytest.raises(Exception, match="Too many payment sessions in a short time"):
            create_customer_session(user)
    create_customer_session(UserFactory())  # the site's second session is still there


def test_none_is_no_budget(fake_stripe, budget, user):
    budget(None)
    for _ in range(10):
        create_customer_session(user)
    assert session_creates(fake_stripe) == 10


def test_a_rate_that_is_not_one_is_refused_clearly(fake_stripe, budget, user):
    budget("ten per second")
    with pytest.raises(ValueError, match="is not a rate"):
        create_customer_session(user)
