"""pytest plugin (entry point ``customer_sessions``): the ``fake_stripe`` fixture.

``fake_stripe`` yields a started :class:`~customer_sessions.testing.FakeStripe`, reset for
each test; one server serves the whole test session (``fake_stripe_server``). When Django
settings are configured, ``CUSTOMER_SESSIONS`` is overridden for the test so the app talks
to the double: ``API_BASE``, ``SECRET_KEY`` and ``PUBLISHABLE_KEY`` point at it.

Nothing of Django, and nothing of the double, is imported until a fixture runs, so
projects without Django (or without settings configured, or without pytest-django), and
without the ``testing`` extra, can load this plugin: pytest loads it in every project
that installed the package.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .double import FakeStripe


@pytest.fixture(scope="session")
def fake_stripe_server() -> Iterator[FakeStripe]:
    """The one Stripe double of the test session, started on a free port."""
    from .double import FakeStripe

    fake = FakeStripe()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def _django_override(fake: FakeStripe) -> Any:
    """An enabled ``override_settings`` pointing the app at ``fake``, or None without Django."""
    if importlib.util.find_spec("django") is None:
        return None
    from django.conf import settings

    if not settings.configured:
        return None
    from django.test import override_settings

    current = getattr(settings, "CUSTOMER_SESSIONS", None) or {}
    override = override_settings(
        CUSTOMER_SESSIONS={
            **current,
            "API_BASE": fake.url,
            "SECRET_KEY": fake.secret_key,
            "PUBLISHABLE_KEY": fake.publishable_key,
        }
    )
    override.enable()
    return override


@pytest.fixture
def fake_stripe(fake_stripe_server: FakeStripe) -> Iterator[FakeStripe]:
    """A clean Stripe double for this test (and the app's settings pointed at it)."""
    fake_stripe_server.reset()
    override = _django_override(fake_stripe_server)
    try:
        yield fake_stripe_server
    finally:
        if override is not None:
            override.disable()
        fake_stripe_server.clear_faults()
