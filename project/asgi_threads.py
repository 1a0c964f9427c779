"""Django's ASGI handler, keeping each request's sync thread for later requests.

Django's ASGI handler runs each request's sync code (its built-in middleware, the database
work of the async ORM, sync views) in a thread of the request's own. It starts a new thread
for every request, so a new database connection too, and one more thread to join the first
when the request ends. :class:`ReusedThreadsASGIHandler` keeps those threads instead: each
request still has a thread to itself while it runs (Django's isolation), but the thread,
and with ``CONN_MAX_AGE`` its database connection, serves the next requests. At most
``max_idle`` threads wait for work; one more closes its database connections and ends.

It needs asgiref 3.13 (``ThreadSensitiveContext(executor=...)``). Keeping connections
(``CONN_MAX_AGE`` > 0) under Django's own ASGI handler would leave one open per request,
in threads that end, so :func:`get_application` refuses an older asgiref instead of
falling back to Django's handler.
"""

from __future__ import annotations

import inspect
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.core.asgi import get_asgi_application
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.asgi import ASGIHandler
from django.db import connections


class ReusedThreadsASGIHandler(ASGIHandler):
    """Django's ASGI handler, with each request's sync thread kept for the next requests."""

    def __init__(self, max_idle: int = 64) -> None:
        super().__init__()
        self.max_idle = max_idle
        self._idle: list[ThreadPoolExecutor] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            # Django's own answer: lifespan and websockets are not served.
            return await super().__call__(scope, receive, send)
        # One event loop per worker process: nothing else runs between pop() and append().
        executor = self._idle.pop() if self._idle else self._new_thread()
        try:
            async with ThreadSensitiveContext(executor=executor):  # type: ignore[call-arg,unused-ignore]
                await self.handle(scope, receive, send)
        finally:
            if len(self._idle) < self.max_idle:
                self._idle.append(executor)
            else:
                self._retire(executor, wait=False)

    def close(self) -> None:
        """Close the idle threads' database connections and end the threads."""
        while self._idle:
            self._retire(self._idle.pop(), wait=True)

    @staticmethod
    def _retire(executor: ThreadPoolExecutor, wait: bool) -> None:
        executor.submit(connections.close_all)
        executor.shutdown(wait=wait)

    @staticmethod
    def _new_thread() -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="django-request")


def get_application(max_idle: int = 64) -> ReusedThreadsASGIHandler:
    """Django set up, and :class:`ReusedThreadsASGIHandler` to serve it."""
    if "executor" not in inspect.signature(ThreadSensitiveContext).parameters:
        raise ImproperlyConfigured(
            "project/asgi.py needs asgiref 3.13 or later (pip install 'asgiref>=3.13')."
        )
    get_asgi_application()  # django.setup(), as Django's own entry point does it
    return ReusedThreadsASGIHandler(max_idle)
