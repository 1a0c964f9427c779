"""The client secret is never persisted: not in the database, a cache, the session, a log
record or an error report. A run of requests through the endpoint and the tag, with
Django's cache middleware on and every logger at DEBUG, then a search everywhere."""

from __future__ import annotations

import logging
import pickle

import pytest
from django.core.cache import caches
from django.db import connection
from django.dispatch import receiver
from django.test import Client, override_settings

from customer_sessions import signals

from ..factories import UserFactory

pytestmark = pytest.mark.django_db

CACHE_MIDDLEWARE = {
    "prepend": "django.middleware.cache.UpdateCacheMiddleware",
    "append": "django.middleware.cache.FetchFromCacheMiddleware",
}


def everything_in_the_database() -> str:
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            dump.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(dump)


def everything_in_the_caches() -> str:
    dump = []
    for cache in caches.all():
        store = getattr(cache, "_cache", {})
        for key, value in store.items():
            dump.append(repr(key))
            dump.append(repr(value))
            try:
                dump.append(repr(pickle.loads(value)))  # noqa: S301 - our own test cache
            except Exception:  # noqa: BLE001,S110 - not every entry is a pickle
                pass
    return "\n".join(dump)


@pytest.fixture
def cached_site(settings):  # type: ignore[no-untyped-def]
    settings.MIDDLEWARE = [
        CACHE_MIDDLEWARE["prepend"],
        *settings.MIDDLEWARE,
        CACHE_MIDDLEWARE["append"],
    ]
    settings.CACHE_MIDDLEWARE_SECONDS = 600
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return settings


def test_secret_is_nowhere_after_a_run_of_requests(fake_stripe, cached_site, all_logs):
    users = UserFactory.create_batch(3)
    anonymous = Client()
    for user in users:
        client = Client()
        client.force_login(user)
        for _ in range(2):
            assert client.post("/api/customer-session/").status_code == 201
            assert client.get("/checkout/").status_code == 200
            assert client.get("/").status_code == 200
        anonymous.get("/")

    secrets = [s["client_secret"] for s in fake_stripe.customer_sessions]
    assert len(secrets) == 12
    database = everything_in_the_database()
    cache = everything_in_the_caches()
    logs = "\n".join([r.getMessage() for r in all_logs.records] + [all_logs.text])
    assert "django_session" in connection.introspection.table_names()
    assert "cus_" in database  # the search does see the mapping
    assert any(r.name == "stripe" for r in all_logs.records)  # and stripe-python's DEBUG logs
    for secret in secrets:
        assert secret not in database
        assert secret not in cache
        assert secret not in logs
    assert fake_stripe.secret_key not in logs


def test_cached_site_serves_each_user_a_fresh_uncached_page(fake_stripe, cached_site):
    client = Client()
    client.force_login(UserFactory())
    first = client.get("/checkout/")
    second = client.get("/checkout/")
    assert "no-store" in first["Cache-Control"]
    assert first.content != second.content
    assert len(fake_stripe.customer_sessions) == 2


def test_stripe_debug_log_is_redacted(fake_stripe, user, all_logs):
    from customer_sessions.services import create_customer_session

    session = create_customer_session(user)
    bodies = [r.getMessage() for r in all_logs.records if r.name == "stripe"]
    assert any("customer_session" in body for body in bodies)
    assert any("[redacted]" in body for body in bodies)
    assert all(session.client_secret not in body for body in bodies)


@override_settings(DEBUG=True, DEBUG_PROPAGATE_EXCEPTIONS=False)
def test_technical_500_page_of_the_endpoint_has_no_secret(fake_stripe, user, settings):
    settings.DEBUG = True

    @receiver(signals.session_created)
    def explode(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("a receiver of the site fails after the session exists")

    try:
        client = Client(raise_request_exception=False)
        client.force_login(user)
        response = client.post("/api/customer-session/", HTTP_ACCEPT="text/html")
    finally:
        signals.session_created.disconnect(explode)

    page = response.content.decode()
    assert response.status_code == 500
    assert "a receiver of the site fails" in page  # it is the technical page
    [secret] = [s["client_secret"] for s in fake_stripe.customer_sessions]
    assert secret not in page
    assert fake_stripe.secret_key not in page


def test_technical_500_page_of_a_template_has_no_secret(fake_stripe, user, settings, tmp_path):
    settings.DEBUG = True
    (tmp_path / "boom.html").write_text(
        "{% load customer_sessions %}{% customer_session %}{% customer_session as cs %}"
        "{{ cs.client_secret }}{% url 'no-such-view' %}"
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    from django.urls import path
    from django.views.generic import TemplateView

    import tests.urls

    urlconf = type(
        "Urls",
        (),
        {
            "urlpatterns": [
                path("boom/", TemplateView.as_view(template_name="boom.html")),
                *tests.urls.urlpatterns,
            ]
        },
    )
    settings.ROOT_URLCONF = urlconf
    client = Client(raise_request_exception=False)
    client.force_login(user)
    response = client.get("/boom/")

    page = response.content.decode()
    assert response.status_code == 500
    assert "NoReverseMatch" in page
    secrets = [s["client_secret"] for s in fake_stripe.customer_sessions]
    assert len(secrets) == 2
    for secret in secrets:
        assert secret not in page
    assert fake_stripe.secret_key not in page


def test_log_records_never_carry_the_secret_even_at_debug(fake_stripe, signed_in, all_logs):
    logging.getLogger("django").setLevel(logging.DEBUG)
    response = signed_in.post("/api/customer-session/")
    secret = response.json()["client_secret"]
    for record in all_logs.records:
        assert secret not in record.getMessage()
        assert secret not in repr(record.args)
