"""The demo's ASGI handler (project/asgi_threads.py) against Django's own.

Django's handler gives every request a new thread for its sync code, so a new database
connection; the demo's keeps threads for later requests, one request per thread at a time.
Requests go through the real handler (asgiref's ApplicationCommunicator) in a real event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.core.handlers.asgi import ASGIHandler
from django.db import connections
from django.db.backends.signals import connection_created

from project.asgi_threads import ReusedThreadsASGIHandler, get_application

from . import urls_threads

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _urls(settings, monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    settings.ROOT_URLCONF = "tests.urls_threads"
    # Connections kept between requests, as the demo's settings keep them.
    monkeypatch.setitem(connections["default"].settings_dict, "CONN_MAX_AGE", 60)
    urls_threads.wrappers.clear()
    urls_threads.blocked.clear()
    urls_threads.release.clear()
    yield
    urls_threads.release.set()


@pytest.fixture
def handler() -> Iterator[ReusedThreadsASGIHandler]:
    app = ReusedThreadsASGIHandler(max_idle=1)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def opened() -> Iterator[list[object]]:
    """Every database connection opened while the test runs, in any thread."""
    seen: list[object] = []

    def count(sender: Any, connection: Any, **kwargs: Any) -> None:
        seen.append(connection)

    connection_created.connect(count)
    try:
        yield seen
    finally:
        connection_created.disconnect(count)


def _scope(path: str) -> dict[str, Any]:
    return {
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


async def _get(app: Any, path: str) -> str:
    """The mark of the thread that served ``path``."""
    communicator = ApplicationCommunicator(app, _scope(path))
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(10)
    body = await communicator.receive_output(10)
    await communicator.wait(10)
    assert start["status"] == 200, body
    return str(json.loads(body["body"])["thread"])


def _threads_named(prefix: str) -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith(prefix))


def _eventually(condition: Any) -> bool:
    for _ in range(200):
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_the_demo_serves_with_the_reusing_handler():
    assert isinstance(get_application(), ReusedThreadsASGIHandler)


def test_one_thread_and_one_connection_serve_requests_one_after_another(handler, opened):
    async def three() -> list[str]:
        return [await _get(handler, "/where/") for _ in range(3)]

    threads = async_to_sync(three)()

    assert len(set(threads)) == 1
    assert len(opened) == 1


def test_djangos_handler_opens_a_thread_and_a_connection_per_request(opened, monkeypatch):
    """What the demo's handler saves: the same three requests through Django's own."""
    # As Django's documentation asks under its handler (each request's thread ends).
    monkeypatch.setitem(connections["default"].settings_dict, "CONN_MAX_AGE", 0)

    async def three() -> list[str]:
        return [await _get(ASGIHandler(), "/where/") for _ in range(3)]

    threads = async_to_sync(three)()

    assert len(set(threads)) == 3
    assert len(opened) == 3


def test_requests_at_the_same_time_each_get_a_thread_of_their_own(handler):
    async def two() -> list[str]:
        return list(await asyncio.gather(_get(handler, "/meet/"), _get(handler, "/meet/")))

    threads = async_to_sync(two)()

    assert threads[0] != threads[1]


def test_threads_beyond_max_idle_close_their_connection_and_end(handler):
    before = _threads_named("django-request")

    async def two_then_one() -> list[str]:
        both = await asyncio.gather(_get(handler, "/meet/"), _get(handler, "/meet/"))
        return [*both, await _get(handler, "/where/")]

    first, second, third = async_to_sync(two_then_one)()

    assert _eventually(lambda: _threads_named("django-request") == before + 1)
    kept, retired = (first, second) if third == first else (second, first)
    assert urls_threads.wrappers[kept].connection is not None  # type: ignore[attr-defined]
    assert urls_threads.wrappers[retired].connection is None  # type: ignore[attr-defined]


def test_threads_idle_longer_than_the_timeout_close_their_connection_and_end():
    app = ReusedThreadsASGIHandler(max_idle=8, idle_timeout=0.2)
    before = _threads_named("django-request")

    async def two_then_later_one() -> list[str]:
        both = await asyncio.gather(_get(app, "/meet/"), _get(app, "/meet/"))
        await asyncio.sleep(0.3)
        return [*both, await _get(app, "/where/")]

    try:
        first, second, third = async_to_sync(two_then_later_one)()

        assert _eventually(lambda: _threads_named("django-request") == before + 1)
        retired = second if third == first else first
        assert urls_threads.wrappers[retired].connection is None  # type: ignore[attr-defined]
    finally:
        app.close()


def test_a_cancelled_request_does_not_hand_its_busy_thread_to_the_next(handler):
    async def cancelled_then_next() -> str:
        sent: list[Any] = []
        inbox: asyncio.Queue[Any] = asyncio.Queue()
        await inbox.put({"type": "http.request", "body": b"", "more_body": False})

        async def send(message: Any) -> None:
            sent.append(message)

        task = asyncio.ensure_future(handler(_scope("/block/"), inbox.get, send))
        while not urls_threads.blocked.is_set():
            await asyncio.sleep(0.01)
        task.cancel()  # as a server does when it gives up on a request
        with contextlib.suppress(asyncio.CancelledError):
            await task
        try:
            return await _get(handler, "/where/")
        finally:
            urls_threads.release.set()

    next_thread = async_to_sync(cancelled_then_next)()

    assert next_thread != urls_threads.wrappers["blocked"]


def test_lifespan_is_refused_as_django_refuses_it(handler):
    with pytest.raises(ValueError, match="Django can only handle ASGI/HTTP connections"):
        async_to_sync(handler)({"type": "lifespan"}, None, None)
