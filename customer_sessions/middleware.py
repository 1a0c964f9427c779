"""Keeps every response that carries a client secret out of every cache and every traceback.

``CustomerSessionMiddleware`` does three things for each request:

- It makes the request the *current* one (a context variable, so the Python API called
  from a view, sync or async, can find it) and gives it a place for pending secrets.
- ``{% customer_session %}`` renders a stand-in (``cuss_pending_…``) instead of the
  secret, and leaves the secret here; once the whole response is rendered the middleware
  writes the secrets in. So no template frame (a ``{% for %}`` loop's list of rendered
  parts, a ``{% filter %}`` block's output) ever holds a secret that a traceback, Django's
  error page or e-mail, or an error tracker could show, and a ``{% cache %}`` fragment
  could only ever hold a stand-in.
- A response whose request issued a secret (the tag, the Python API, the endpoint) leaves
  with ``Cache-Control: no-store, private``, and Django's cache framework is told not to
  store it, whatever the view is wrapped in (see :func:`mark_issued`).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers, patch_cache_control

logger = logging.getLogger(__name__)

#: Set on the request when a secret was issued for its response.
ISSUED_ATTR = "_customer_session_issued"
#: The request's pending secrets (a :class:`PendingSecrets`); set by the middleware.
PENDING_ATTR = "_customer_session_pending"
#: The prefix of a stand-in; what follows is random, so page content cannot forge one.
STAND_IN_PREFIX = "cuss_pending_"

_current: ContextVar[HttpRequest | None] = ContextVar("customer_sessions_request", default=None)


class PendingSecrets:
    """The secrets a response is waiting for, by stand-in. Its ``repr`` shows no secret."""

    __slots__ = ("_secrets",)

    def __init__(self) -> None:
        self._secrets: dict[str, str] = {}

    def stand_in(self, secret: str) -> str:
        """A random stand-in for ``secret``, to be replaced when the response is done."""
        token = STAND_IN_PREFIX + secrets.token_hex(16)
        self._secrets[token] = secret
        return token

    def write_into(self, content: bytes) -> bytes:
        for token, secret in self._secrets.items():
            content = content.replace(token.encode("ascii"), secret.encode("ascii"))
        return content

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def __len__(self) -> int:
        return len(self._secrets)

    def __repr__(self) -> str:
        return f"<PendingSecrets: {len(self._secrets)}>"

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("Pending client secrets must not be pickled, cached or stored.")


def mark_issued(request: HttpRequest) -> None:
    """The response to ``request`` carries a client secret: it must never be cached.

    Django's cache middleware (``@cache_page`` and the site-wide
    ``UpdateCacheMiddleware``) decides whether to store a response by one request
    attribute, ``_cache_update_cache``, which its ``process_request`` sets. A view
    decorator stores the response before any middleware of this app sees it, and no
    public API lets code inside the view (a template tag, the Python API) veto storing;
    so the tag and the API clear that attribute. Without this, ``@cache_page`` stored the
    first visitor's secret and served it to everyone (tests/reliability/test_caching.py covers each
    way a site wraps a view, on every Django version the app supports).
    """
    setattr(request, ISSUED_ATTR, True)
    request._cache_update_cache = False  # type: ignore[attr-defined]


def mark_current_issued() -> None:
    """:func:`mark_issued` for the request being served, if there is one (the Python API)."""
    request = _current.get()
    if request is not None:
        mark_issued(request)


def was_issued(request: HttpRequest) -> bool:
    return bool(getattr(request, ISSUED_ATTR, False))


def pending_secrets(request: Any) -> PendingSecrets | None:
    """Where the tag leaves the secrets of ``request``; ``None`` without the middleware."""
    pending = getattr(request, PENDING_ATTR, None)
    return pending if isinstance(pending, PendingSecrets) else None


def never_cache_secret(response: HttpResponseBase) -> None:
    """``Cache-Control: no-store, private``, and nothing that says otherwise.

    A view's own ``@cache_control(public=True, max_age=…)`` loses ``public`` and its
    ``max-age``; an ``Expires`` header is set to now.
    """
    if response.has_header("Expires"):
        del response.headers["Expires"]
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True, private=True, max_age=0)


def _write_secrets(request: HttpRequest, response: HttpResponseBase) -> None:
    pending = request.__dict__.pop(PENDING_ATTR, None)
    if response.status_code >= 500:
        # An error page (Django's technical 500 page shows the stand-ins among the
        # frames' locals) never gets a secret.
        return
    if not pending:
        _report_stale_stand_ins(response)
        return
    if getattr(response, "streaming", False) or response.has_header("Content-Encoding"):
        logger.error(
            "A page rendered {%% customer_session %%} but its response is %s; its %d "
            "secret(s) were not written in. Put django.middleware.gzip.GZipMiddleware "
            "before customer_sessions.middleware.CustomerSessionMiddleware in MIDDLEWARE.",
            "streamed" if getattr(response, "streaming", False) else "already compressed",
            len(pending),
        )
        return
    content = response.content  # type: ignore[attr-defined]
    written = pending.write_into(content)
    if written != content:
        response.content = written  # type: ignore[attr-defined]
        if response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(written))
    _report_stale_stand_ins(response)


def _report_stale_stand_ins(response: HttpResponseBase) -> None:
    """A stand-in this request did not issue: the tag's output came from a cache."""
    if getattr(response, "streaming", False) or response.has_header("Content-Encoding"):
        return
    kind = response.get("Content-Type", "")
    if not (kind.startswith("text/") or "json" in kind):
        return
    if STAND_IN_PREFIX.encode("ascii") in response.content:  # type: ignore[attr-defined]
        logger.error(
            "A page carries a {%% customer_session %%} stand-in that its request did not "
            "issue: the tag's output was cached (inside {%% cache %%}, through "
            "{%% include %%} or {%% extends %%}), so this page has no working secret. Move "
            "the tag outside the cached fragment."
        )


def protect(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """Write the pending secrets into ``response`` and mark it uncacheable if it has any."""
    _write_secrets(request, response)
    if was_issued(request):
        never_cache_secret(response)
    return response


class CustomerSessionMiddleware:
    """See the module docstring. Works under WSGI and ASGI without a thread hop.

    Its place in ``MIDDLEWARE``: after ``GZipMiddleware`` (which must compress the page
    only once the secrets are in it); anywhere relative to the cache middleware.
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
        setattr(request, PENDING_ATTR, PendingSecrets())
        token = _current.set(request)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        return protect(request, response)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        setattr(request, PENDING_ATTR, PendingSecrets())
        token = _current.set(request)
        try:
            response = await get_response(request)
        finally:
            _current.reset(token)
        return protect(request, response)
