"""A Content-Security-Policy for the demo pages, allowing Stripe.js and nothing else.

Django 5.2 has no built-in CSP, so this small middleware sets one header on every response
that does not already have one. The origins are the ones Stripe documents for Stripe.js,
the Payment Element, the Pricing Table and the Buy Button:

- scripts from ``https://js.stripe.com`` (and its ``*.js.stripe.com`` hosts);
- frames from those hosts and ``https://hooks.stripe.com`` (3-D Secure and redirects);
- ``fetch``/XHR to ``https://api.stripe.com``;
- images from ``https://*.stripe.com`` (card brand logos).

Everything of the demo itself comes from ``'self'``: no inline script or style, no
``eval``. A secret reaches a script only through a ``json_script`` element, which is data
(``type="application/json"``), not script, so the policy does not need to allow it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

STRIPE_JS = "https://js.stripe.com https://*.js.stripe.com"

POLICY = {
    "default-src": "'self'",
    "script-src": f"'self' {STRIPE_JS}",
    "style-src": "'self'",
    "img-src": "'self' data: https://*.stripe.com",
    "font-src": "'self'",
    "connect-src": "'self' https://api.stripe.com",
    "frame-src": f"{STRIPE_JS} https://hooks.stripe.com",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

HEADER = "; ".join(f"{directive} {sources}" for directive, sources in POLICY.items())


class ContentSecurityPolicyMiddleware:
    """Adds ``Content-Security-Policy`` (see the module docstring) to every response.

    Async-capable: a sync-only middleware would make Django run every view under ASGI in
    one thread, so the async session endpoint would wait for Stripe one request at a time.
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
        response.headers.setdefault("Content-Security-Policy", HEADER)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response: HttpResponseBase = await self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", HEADER)
        return response
