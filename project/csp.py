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
    """Adds ``Content-Security-Policy`` (see the module docstring) to every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", HEADER)
        return response
