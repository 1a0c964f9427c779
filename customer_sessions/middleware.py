"""Makes every response that carries a client secret uncacheable."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control

#: Set on the request by the ``{% customer_session %}`` tag when it renders a secret.
ISSUED_ATTR = "_customer_session_issued"


def mark_issued(request: HttpRequest) -> None:
    setattr(request, ISSUED_ATTR, True)


def was_issued(request: HttpRequest) -> bool:
    return bool(getattr(request, ISSUED_ATTR, False))


def never_cache_secret(response: HttpResponseBase) -> None:
    """``Cache-Control: no-store, private`` (what Django's cache middleware respects)."""
    patch_cache_control(response, no_store=True, private=True, no_cache=True, max_age=0)


class CustomerSessionMiddleware:
    """Marks responses whose page rendered ``{% customer_session %}`` as never cacheable.

    Put it anywhere after ``django.middleware.cache.UpdateCacheMiddleware`` in
    ``MIDDLEWARE`` (that is, closer to the view), so it runs before the page is cached.
    A ``TemplateResponse`` is rendered before middleware sees it, so tags rendered there
    count too. Works under WSGI and ASGI without a thread hop.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        response = self.get_response(request)
        if was_issued(request):
            never_cache_secret(response)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        response = await get_response(request)
        if was_issued(request):
            never_cache_secret(response)
        return response
