from __future__ import annotations

import logging
import signal
from collections.abc import Iterator

import pytest
from django.core.cache import caches
from django.test import Client

from customer_sessions.testing import FakeStripe

from .factories import UserFactory

# A test run started in the background by a shell without job control (bash's `cmd &` in a
# script) has SIGINT ignored, and every process a test starts would inherit that: Ctrl-C
# (SIGINT) would no longer stop the demo or a backfill, as it does in a terminal. The
# default handler is not inherited across exec, so those processes get theirs back.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _clear_caches() -> Iterator[None]:
    """Throttle counts and cached pages must not leak from one test into the next."""
    for cache in caches.all():
        cache.clear()
    yield


@pytest.fixture
def user(db):  # type: ignore[no-untyped-def]
    return UserFactory()


@pytest.fixture
def signed_in(client: Client, user):  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client


@pytest.fixture
def csrf_client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record at every level, stripe-python's DEBUG response bodies included."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="stripe")
    yield caplog


def customer_creates(fake: FakeStripe) -> int:
    return len([r for r in fake.requests if r.method == "POST" and r.path == "/v1/customers"])


def session_creates(fake: FakeStripe) -> int:
    return len(
        [r for r in fake.requests if r.method == "POST" and r.path == "/v1/customer_sessions"]
    )
