"""Django's ASGI handler, keeping each request's sync thread for later requests.

Django's ASGI handler runs each request's sync code (its built-in middleware, the database
work of the async ORM, sync views) in a thread of the request's own. It starts a new thread
for every request, so a new database connection too, and one more thread to join the first
when the request ends. :class:`ReusedThreadsASGIHandler` keeps those threads instead: each
request still has a thread to itself while it runs (Django's isolation), but the thread,
and with ``CONN_MAX_AGE`` its database connection, serves the next requests.

A worker has as many threads (and connections) as requests at its busiest moment, as with
Django's handler; afterwards at most ``max_idle`` threads wait for work, and a thread idle
for ``idle_timeout`` seconds closes its database connections and ends. A request that did
not finish normally (cancelled by the server, or failed in the handler itself) may have
left work running in its thread: that thread is not reused.

It needs asgiref 3.13 (``ThreadSensitiveContext(executor=...)``). Keeping connections
(``CONN_MAX_AGE`` > 0) under Django's own ASGI handler would leave one open per request,
in threads that end, so :func:`get_application` refuses an older asgiref instead of
falling back to Django's handler.
"""

from __future__ import annotations

import inspect
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.core.asgi import get_asgi_application
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.asgi import ASGIHandler
from django.db import connections


class ReusedThreadsASGIHandler(ASGIHandler):
    """Django's ASGI handler, with each request's sync thread kept for the next requests."""

    def __init__(self, max_idle: int = 64, idle_timeout: float = 60.0) -> None:
        super().__init__()
        self.max_idle = max_idle
        self.idle_timeout = idle_timeout
        # (executor, when it became idle); the most recently used last.
        self._idle: list[tuple[ThreadPoolExecutor, float]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            # Django's own answer: lifespan and websockets are not served.
            return await super().__call__(scope, receive, send)
        # One event loop per worker process: nothing else runs between pop() and append().
        executor = self._idle.pop()[0] if self._idle else self._new_thread()
        finished = False
        try:
            async with ThreadSensitiveContext(executor=executor):  # type: ignore[call-arg,unused-ignore]
                await self.handle(scope, receive, send)
            finished = True
        finally:
            now = time.monotonic()
            if finished and len(self._idle) < self.max_idle:
                self._idle.append((executor, now))
            else:
                self._retire(executor, wait=False)
            while self._idle and now - self._idle[0][1] > self.idle_timeout:
                self._retire(self._idle.pop(0)[0], wait=False)

    def close(self) -> None:
        """Close the idle threads' database connections and end the threads."""
        while self._idle:
            self._retire(self._idle.pop()[0], wait=True)

    @staticmethod
    def _retire(executor: ThreadPoolExecutor, wait: bool) -> None:
        # Runs after whatever the thread is still doing, then the thread ends.
        executor.submit(connections.close_all)
        executor.shutdown(wait=wait)

    @staticmethod
    def _new_thread() -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="django-request")


def get_application(max_idle: int = 64, idle_timeout: float = 60.0) -> ReusedThreadsASGIHandler:
    """Django set up, and :class:`ReusedThreadsASGIHandler` to serve it."""
    if "executor" not in inspect.signature(ThreadSensitiveContext).parameters:
        raise ImproperlyConfigured(
            "project/asgi.py needs asgiref 3.13 or later (pip install 'asgiref>=3.13')."
        )
    get_asgi_application()  # django.setup(), as Django's own entry point does it
    return ReusedThreadsASGIHandler(max_idle, idle_timeout)
