"""No cache ever holds or serves a secret, whatever a site wraps its views in.

Each case is a view wrapped the way sites wrap them (tests/urls_caching.py), asked for by a
first user, a second user, an anonymous visitor and the first user again. Every value any
cache was asked to store is kept (tests/caches.py) and searched.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from .. import caches
from ..factories import UserFactory

pytestmark = pytest.mark.django_db

SECRET = re.compile(r"cuss_secret_[A-Za-z0-9]+")
UPDATE = "django.middleware.cache.UpdateCacheMiddleware"
FETCH = "django.middleware.cache.FetchFromCacheMiddleware"
OURS = "customer_sessions.middleware.CustomerSessionMiddleware"


@pytest.fixture
def site(settings, tmp_path):  # type: ignore[no-untyped-def]
    from pathlib import Path

    settings.ROOT_URLCONF = "tests.urls_caching"
    settings.CACHES = {"default": {"BACKEND": "tests.caches.RecordingCache"}}
    settings.CACHE_MIDDLEWARE_SECONDS = 600
    templates = Path(__file__).parent.parent / "templates"
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [templates, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    caches.STORED.clear()
    return settings


def signed_in(user=None) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user or UserFactory())
    return client


def secrets_in(response) -> list[str]:  # type: ignore[no-untyped-def]
    return SECRET.findall(response.content.decode())


def cache_control(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {part.strip().split("=")[0] for part in response.get("Cache-Control", "").split(",")}


def assert_never_cached(response) -> None:  # type: ignore[no-untyped-def]
    directives = cache_control(response)
    assert {"no-store", "private"} <= directives, response.get("Cache-Control")
    assert "public" not in directives


def visit(url: str, method: str = "get") -> dict[str, list[str]]:
    """A first user, a second user, an anonymous visitor, then the first user again."""
    first_user = UserFactory()
    first, second, anonymous = signed_in(first_user), signed_in(), Client()
    seen: dict[str, list[str]] = {}
    for name, client in [
        ("first", first),
        ("second", second),
        ("anonymous", anonymous),
        ("first again", first),
    ]:
        response = getattr(client, method)(url)
        seen[name] = secrets_in(response)
        if name != "anonymous":
            assert response.status_code in (200, 201), (name, response.status_code)
            assert_never_cached(response)
    return seen


def assert_each_gets_their_own(seen: dict[str, list[str]], fake_stripe) -> None:  # type: ignore[no-untyped-def]
    [first] = seen["first"]
    [second] = seen["second"]
    [again] = seen["first again"]
    assert second != first
    assert first not in seen["anonymous"] and second not in seen["anonymous"]
    assert again not in (first, second)
    issued = [s["client_secret"] for s in fake_stripe.customer_sessions]
    assert issued == [first, second, again]
    stored = caches.everything_stored()
    for secret in issued:
        assert secret.encode() not in stored


@pytest.mark.parametrize(
    "url",
    [
        "/outside/",
        "/inside/",
        "/template-response/",
        "/public/",
        "/own-vary/",
        "/python-api/",
    ],
    ids=[
        "cache_page-outside-login_required",
        "cache_page-inside-login_required",
        "cache_page-TemplateResponse",
        "cache_control-public-max_age",
        "own-Vary",
        "python-api",
    ],
)
def test_cache_page_never_stores_a_secret(fake_stripe, site, url):
    assert_each_gets_their_own(visit(url), fake_stripe)


@pytest.mark.django_db(transaction=True)
def test_cache_page_never_stores_a_secret_of_the_async_python_api(fake_stripe, site):
    # Async code reaches the database from other threads: a transactional test.
    assert_each_gets_their_own(visit("/async-python-api/"), fake_stripe)


def test_the_endpoint_under_cache_page_is_never_stored(fake_stripe, site):
    assert_each_gets_their_own(visit("/endpoint/", method="post"), fake_stripe)


@pytest.mark.parametrize(
    "order",
    [
        [UPDATE, "*", OURS, FETCH],
        [OURS, UPDATE, "*", FETCH],
    ],
    ids=["middleware-after-UpdateCache", "middleware-before-UpdateCache"],
)
def test_site_wide_cache_middleware_never_stores_a_secret(fake_stripe, site, order):
    rest = [name for name in site.MIDDLEWARE if name != OURS]
    site.MIDDLEWARE = [part for name in order for part in (rest if name == "*" else [name])]
    assert_each_gets_their_own(visit("/plain/"), fake_stripe)


def test_a_page_without_the_tag_is_still_cached(fake_stripe, site):
    first = Client().get("/no-secret/")
    second = Client().get("/no-secret/")
    assert first.content == second.content
    assert b"no-secret" in caches.everything_stored()
    assert "no-store" not in first.get("Cache-Control", "")
    assert fake_stripe.requests == []


def test_cache_control_public_on_a_page_without_the_cache_is_overridden(fake_stripe, site):
    from django.urls import path
    from django.views.decorators.cache import cache_control

    from .. import urls_caching

    view = cache_control(public=True, max_age=3600)(urls_caching.page)
    site.ROOT_URLCONF = type("Urls", (), {"urlpatterns": [path("p/", view)]})
    response = signed_in().get("/p/")
    assert secrets_in(response)
    assert_never_cached(response)
    assert "max-age=0" in response["Cache-Control"]
