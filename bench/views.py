"""What the app's endpoint is measured against (never used outside ``make bench``)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import stripe
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import apps

#: What the app's default preset sends (``payment_element``), so every view asks for the same.
COMPONENTS: Any = {
    "payment_element": {
        "enabled": True,
        "features": {
            "payment_method_redisplay": "enabled",
            "payment_method_save": "enabled",
            "payment_method_remove": "enabled",
        },
    }
}


def _key() -> str:
    return str(settings.CUSTOMER_SESSIONS["SECRET_KEY"])


def _api_base() -> dict[str, str]:
    return {"api": str(settings.CUSTOMER_SESSIONS["API_BASE"])}


_client: stripe.StripeClient | None = None


def _reused_client() -> stripe.StripeClient:
    global _client
    if _client is None:
        _client = stripe.StripeClient(
            _key(),
            base_addresses=_api_base(),  # type: ignore[arg-type]
            http_client=stripe.RequestsClient(timeout=10),
        )
    return _client


class BareSessionView(APIView):
    """The ceiling: one Stripe call for a fixed customer through one reused client.

    The site's default DRF authentication and permission (session + CSRF, signed in), no
    mapping, no throttle, no validation, no logging: nothing but the Stripe round trip.
    """

    def post(self, request: Request) -> Response:
        customer = os.environ["BENCH_CUSTOMER"]
        session = _reused_client().v1.customer_sessions.create(
            params={"customer": customer, "components": COMPONENTS}
        )
        return Response(
            {
                "client_secret": session.client_secret,
                "expires_at": session.expires_at,
                "customer": customer,
            },
            status=status.HTTP_201_CREATED,
        )


_async_clients: dict[Any, stripe.StripeClient] = {}


async def bare_async_session(request: HttpRequest) -> JsonResponse:
    """The async ceiling under ASGI: a signed-in user (CSRF checked by the middleware), one
    ``create_async`` for a fixed customer through one client per event loop, built as
    stripe-python documents it (``HTTPXClient``, httpx's default pool).
    """
    if request.method != "POST":
        return JsonResponse({"detail": "Method not allowed."}, status=405)
    user = await request.auser()
    if not user.is_authenticated:
        return JsonResponse({"detail": "Not signed in."}, status=403)
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = _async_clients[loop] = stripe.StripeClient(
            _key(),
            base_addresses=_api_base(),  # type: ignore[arg-type]
            http_client=stripe.HTTPXClient(timeout=10),
        )
    customer = os.environ["BENCH_CUSTOMER"]
    session = await client.v1.customer_sessions.create_async(
        params={"customer": customer, "components": COMPONENTS}
    )
    return JsonResponse(
        {"client_secret": session.client_secret, "expires_at": session.expires_at},
        status=201,
    )


async def wait_async(request: HttpRequest) -> JsonResponse:
    """What Django's ASGI stack alone allows: a signed-in user (the same middleware, session
    and user rows) and a 200 ms wait in place of Stripe, with no Stripe request at all.
    """
    if request.method != "POST":
        return JsonResponse({"detail": "Method not allowed."}, status=405)
    user = await request.auser()
    if not user.is_authenticated:
        return JsonResponse({"detail": "Not signed in."}, status=403)
    await asyncio.sleep(0.2)
    return JsonResponse({"waited_ms": 200}, status=201)


@require_POST
@login_required
def naive_session(request: HttpRequest) -> JsonResponse:
    """The view most tutorials show: a new client per request, a customer made every time."""
    client = stripe.StripeClient(_key(), base_addresses=_api_base())  # type: ignore[arg-type]
    customer = client.v1.customers.create(params={"email": request.user.email})  # type: ignore[union-attr]
    session = client.v1.customer_sessions.create(
        params={"customer": customer.id, "components": COMPONENTS}
    )
    return JsonResponse({"client_secret": session.client_secret}, status=201)


@login_required
def page(request: HttpRequest, template: str) -> HttpResponse:
    """A checkout page, with ``{% customer_session %}`` (page_tag.html) or without it."""
    return render(request, template)


def stats(request: HttpRequest) -> JsonResponse:
    """This worker's pid, resident memory and database queries so far (no query itself)."""
    rss_kb = 0
    with open(f"/proc/{os.getpid()}/status") as status_file:
        for line in status_file:
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
    return JsonResponse({"pid": os.getpid(), "rss_kb": rss_kb, "queries": apps.queries()})
