"""The demo's ASGI handler (project/asgi_threads.py) against Django's own.

Django's handler gives every request a new thread for its sync code, so a new database
connection; the demo's keeps threads for later requests, one request per thread at a time.
Requests go through the real handler (asgiref's ApplicationCommunicator) in a real event loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.core.handlers.asgi import ASGIHandler
from django.db import connections

from project.asgi_threads import ReusedThreadsASGIHandler, get_application

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _urls(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings.ROOT_URLCONF = "tests.urls_threads"
    # Connections kept between requests, as the demo's settings keep them.
    monkeypatch.setitem(connections["default"].settings_dict, "CONN_MAX_AGE", 60)


@pytest.fixture
def handler() -> Iterator[ReusedThreadsASGIHandler]:
    app = ReusedThreadsASGIHandler(max_idle=1)
    try:
        yield app
    finally:
        app.close()


async def _get(app: Any, path: str) -> dict[str, Any]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(10)
    body = await communicator.receive_output(10)
    await communicator.wait(10)
    assert start["status"] == 200, body
    return dict(json.loads(body["body"]))


def _threads_named(prefix: str) -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith(prefix))


def test_the_demo_serves_with_the_reusing_handler():
    assert isinstance(get_application(), ReusedThreadsASGIHandler)


def test_one_thread_and_one_connection_serve_requests_one_after_another(handler):
    async def three() -> list[dict[str, Any]]:
        return [await _get(handler, "/where/") for _ in range(3)]

    answers = async_to_sync(three)()

    assert len({a["thread"] for a in answers}) == 1
    assert len({a["connection"] for a in answers}) == 1


def test_djangos_handler_opens_a_thread_and_a_connection_per_request():
    """What the demo's handler saves: the same three requests through Django's own."""

    async def three() -> list[dict[str, Any]]:
        return [await _get(ASGIHandler(), "/where/") for _ in range(3)]

    answers = async_to_sync(three)()

    assert len({a["thread"] for a in answers}) == 3


def test_requests_at_the_same_time_each_get_a_thread_of_their_own(handler):
    async def two() -> list[dict[str, Any]]:
        return list(await asyncio.gather(_get(handler, "/meet/"), _get(handler, "/meet/")))

    answers = async_to_sync(two)()

    assert answers[0]["thread"] != answers[1]["thread"]


def test_threads_beyond_max_idle_close_their_connection_and_end(handler):
    before = _threads_named("django-request")

    async def two_then_one() -> dict[str, Any]:
        await asyncio.gather(_get(handler, "/meet/"), _get(handler, "/meet/"))
        return await _get(handler, "/where/")

    async_to_sync(two_then_one)()

    for _ in range(100):
        if _threads_named("django-request") == before + 1:
            break
        threading.Event().wait(0.05)
    assert _threads_named("django-request") == before + 1


def test_lifespan_is_refused_as_django_refuses_it(handler):
    with pytest.raises(ValueError, match="Django can only handle ASGI/HTTP connections"):
        async_to_sync(handler)({"type": "lifespan"}, None, None)
