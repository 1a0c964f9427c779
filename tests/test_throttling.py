"""One allowance per user, spent alike by the endpoint, the tag and the Python API."""

from __future__ import annotations

import asyncio
import re

import pytest
from django.test import Client
from rest_framework.throttling import SimpleRateThrottle

from customer_sessions.exceptions import SessionThrottled
from customer_sessions.services import acreate_customer_session, create_customer_session
from customer_sessions.throttling import Rate

from .conftest import session_creates

pytestmark = pytest.mark.django_db

SECRET = re.compile(r"cuss_secret_[A-Za-z0-9]+")
TAG_LOGGER = "customer_sessions.templatetags.customer_sessions"


@pytest.fixture
def rate(settings):  # type: ignore[no-untyped-def]
    def set_rate(text: str | None) -> None:
        settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "THROTTLE_RATE": text}

    return set_rate


def test_a_hundred_reloads_make_no_more_sessions_than_the_rate(
    fake_stripe, signed_in, rate, caplog
):
    rate("60/min")
    pages = [signed_in.get("/checkout/") for _ in range(100)]

    assert all(page.status_code == 200 for page in pages)
    with_secret = [page for page in pages if SECRET.search(page.content.decode())]
    assert len(with_secret) == 60
    assert session_creates(fake_stripe) == 60
    refused = [r for r in caplog.records if r.name == TAG_LOGGER and "throttled" in r.getMessage()]
    assert len(refused) == 40
    assert {r.levelname for r in refused} == {"WARNING"}


def test_endpoint_tag_and_python_api_share_one_allowance(fake_stripe, signed_in, user, rate):
    rate("5/min")
    assert signed_in.post("/api/customer-session/").status_code == 201
    assert signed_in.post("/api/customer-session/").status_code == 201
    assert SECRET.search(signed_in.get("/checkout/").content.decode())
    assert SECRET.search(signed_in.get("/checkout/").content.decode())
    create_customer_session(user)

    page = signed_in.get("/checkout/")
    assert page.status_code == 200
    assert not SECRET.search(page.content.decode())
    refused = signed_in.post("/api/customer-session/")
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60
    with pytest.raises(SessionThrottled) as info:
        create_customer_session(user)
    assert info.value.status_code == 429
    assert 1 <= info.value.retry_after <= 60
    assert session_creates(fake_stripe) == 5


def test_each_user_has_their_own_allowance(fake_stripe, rate):
    from .factories import UserFactory

    rate("2/min")
    alice, bob = UserFactory.create_batch(2)
    for _ in range(2):
        create_customer_session(alice)
    with pytest.raises(SessionThrottled):
        create_customer_session(alice)
    create_customer_session(bob)
    assert session_creates(fake_stripe) == 3


def test_a_refused_session_calls_no_one(fake_stripe, user, rate):
    rate("1/min")
    create_customer_session(user)
    fake_stripe.reset()
    with pytest.raises(SessionThrottled):
        create_customer_session(user)
    assert fake_stripe.requests == []


def test_a_caller_that_counted_already_passes_throttle_false(fake_stripe, user, rate):
    rate("1/min")
    for _ in range(3):
        create_customer_session(user, throttle=False)
    create_customer_session(user)
    with pytest.raises(SessionThrottled):
        create_customer_session(user)


def test_none_turns_the_allowance_off_everywhere(fake_stripe, signed_in, user, rate):
    rate(None)
    for _ in range(5):
        create_customer_session(user)
        assert SECRET.search(signed_in.get("/checkout/").content.decode())
        assert signed_in.post("/api/customer-session/").status_code == 201
    assert session_creates(fake_stripe) == 15


def test_the_drf_scope_rate_counts_for_the_tag_too(fake_stripe, signed_in, settings, rate):
    rate("100/min")
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"customer_session": "2/min"},
    }
    pages = [signed_in.get("/checkout/") for _ in range(3)]
    assert [bool(SECRET.search(p.content.decode())) for p in pages] == [True, True, False]
    assert signed_in.post("/api/customer-session/").status_code == 429


@pytest.mark.django_db(transaction=True)
def test_the_async_api_spends_the_same_allowance(fake_stripe, user, rate):
    rate("2/min")
    create_customer_session(user)

    async def main() -> None:
        await acreate_customer_session(user)
        with pytest.raises(SessionThrottled):
            await acreate_customer_session(user)

    asyncio.run(main())
    assert session_creates(fake_stripe) == 2


def test_an_anonymous_or_unknown_preset_spends_nothing(fake_stripe, user, rate):
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import PermissionDenied

    from customer_sessions.exceptions import UnknownComponents

    rate("1/min")
    with pytest.raises(PermissionDenied):
        create_customer_session(AnonymousUser())
    with pytest.raises(UnknownComponents):
        create_customer_session(user, "no-such-preset")
    create_customer_session(user)  # the one allowed session is still there


@pytest.mark.parametrize("text", ["60/min", "10/s", "5/sec", "100/hour", "1000/day", "3/m"])
def test_rates_read_as_django_rest_framework_reads_them(text):
    ours = Rate.parse(text)
    assert (ours.limit, ours.duration) == SimpleRateThrottle.parse_rate(None, text)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["sixty/min", "60/fortnight", "60"])
def test_a_rate_that_is_not_one_is_refused(text):
    with pytest.raises(ValueError, match="is not a rate"):
        Rate.parse(text)


def test_throttled_users_page_says_so_once_in_the_log(fake_stripe, user, rate, caplog):
    rate("1/min")
    client = Client()
    client.force_login(user)
    client.get("/checkout/")
    caplog.clear()
    client.get("/checkout/")
    lines = [r for r in caplog.records if r.name.startswith("customer_sessions")]
    assert len(lines) == 1
    assert "throttled" in lines[0].getMessage()
