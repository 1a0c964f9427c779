"""Makes every response that carries a client secret uncacheable."""

from __future__ import annotations

from collections.abc import Callable

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
    Streaming and template responses are handled: a ``TemplateResponse`` is rendered
    before middleware sees it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if was_issued(request):
            never_cache_secret(response)
        return response
