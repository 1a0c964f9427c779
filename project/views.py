"""The demo's pages: the way we recommend wiring Customer Sessions into a site.

Every page that shows saved payment methods gets a fresh Customer Session for the signed-in
user, from ``{% customer_session %}`` (server-rendered pages) or ``POST
/api/customer-session/`` (``/spa/``). Stripe objects that take money (PaymentIntents and
SetupIntents) are created here, on the server, for the customer the app mapped to the user
and with the amount fixed on the server: the browser only ever says "pay" or "save".
"""

from __future__ import annotations

import logging
from typing import Any

import stripe
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.debug import sensitive_variables
from rest_framework import status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from customer_sessions.api.views import IsActiveUser, handle_exception
from customer_sessions.exceptions import CustomerSessionError
from customer_sessions.services import account_for, get_client, get_or_create_customer

logger = logging.getLogger(__name__)

#: What the checkout sells. The browser never sends an amount: the server decides it.
PRODUCT = {
    "name": "Field notebook, pack of 3",
    "amount": 1500,
    "currency": "usd",
    "price": "$15.00",
}

#: The two checkout variants: pay now (a PaymentIntent) or save a card (a SetupIntent).
MODES = ("payment", "setup")


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def _checkout_config(request: HttpRequest, mode: str) -> dict[str, Any]:
    """What the checkout script needs, rendered with ``json_script`` (no secret in it)."""
    return {
        "publishableKey": settings.CUSTOMER_SESSIONS.get("PUBLISHABLE_KEY") or "",
        "mode": mode,
        "amount": PRODUCT["amount"],
        "currency": PRODUCT["currency"],
        "intentUrl": reverse("checkout-intent", kwargs={"mode": mode}),
        "returnUrl": request.build_absolute_uri(reverse("checkout-done")),
    }


@login_required
def checkout(request: HttpRequest, mode: str = "payment") -> HttpResponse:
    """The Payment Element in deferred-intent mode, with the user's saved payment methods."""
    if mode not in MODES:
        raise Http404("No such checkout.")
    return render(
        request,
        "checkout.html",
        {"mode": mode, "product": PRODUCT, "config": _checkout_config(request, mode)},
    )


class IntentView(APIView):
    """``POST /checkout/<mode>/intent/``: a PaymentIntent or SetupIntent for the signed-in user.

    Answers ``{"client_secret"}`` for ``stripe.confirmPayment``/``confirmSetup``. The customer
    is the one the app mapped to the user and the amount is :data:`PRODUCT`'s; the request
    body is ignored. Errors are ``{"code", "detail"}``, like the app's endpoint.
    """

    permission_classes = [IsAuthenticated, IsActiveUser]
    renderer_classes = [JSONRenderer]

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        # The app commits its customer claim on its own; keep requests non-atomic as it does.
        return transaction.non_atomic_requests(super().as_view(**initkwargs))

    def get_exception_handler(self) -> Any:
        return handle_exception

    @sensitive_variables("intent")
    def post(self, request: Request, mode: str) -> Response:
        if mode not in MODES:
            raise Http404("No such checkout.")
        account = account_for(request)
        customer = get_or_create_customer(request.user, account=account)  # type: ignore[arg-type]
        client = get_client(account)
        try:
            if mode == "payment":
                intent = client.v1.payment_intents.create(
                    params={
                        "amount": PRODUCT["amount"],
                        "currency": PRODUCT["currency"],
                        "customer": customer,
                        "description": PRODUCT["name"],
                        "automatic_payment_methods": {"enabled": True},
                    }
                )
            else:
                intent = client.v1.setup_intents.create(
                    params={
                        "customer": customer,
                        "usage": "off_session",
                        "automatic_payment_methods": {"enabled": True},
                    }
                )
        except stripe.StripeError as exc:
            # Never log the exception's message: Stripe's messages can echo a key.
            logger.warning(
                "No %s intent for user %s, customer %s: %s (status %s, request %s)",
                mode,
                request.user.pk,
                customer,
                type(exc).__name__,
                exc.http_status or "-",
                exc.request_id or "-",
            )
            return Response(
                {
                    "code": "stripe_error",
                    "detail": "Stripe could not start the payment. Nothing was charged; "
                    "please try again.",
                },
                status=status.HTTP_502_BAD_GATEWAY,
            )
        logger.info("Created %s for user %s, customer %s", intent.id, request.user.pk, customer)
        response = Response({"client_secret": intent.client_secret})
        response["Cache-Control"] = "no-store, private"
        return response


class TokenView(ObtainAuthToken):
    """``POST /api/token/`` with ``username`` and ``password``: ``{"token": "<key>"}``.

    How the demo's mobile clients sign in (docs/mobile.md): DRF's own view, once per
    install; the app keeps the token in the device's keychain and sends
    ``Authorization: Token <key>``. Attempts are throttled per client address (the
    ``sign_in`` rate), the token is never cached on the way, and a refusal is the app's
    ``{"code", "detail"}`` JSON (``invalid`` for a wrong password).
    """

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "sign_in"

    def get_exception_handler(self) -> Any:
        return handle_exception

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        add_never_cache_headers(response)
        patch_cache_control(response, no_store=True, private=True)
        return response


@login_required
def checkout_done(request: HttpRequest) -> HttpResponse:
    """Where Stripe sends the customer back after a redirect-based payment or setup.

    The intent is read from Stripe (never from the query string's status) and shown only if
    it belongs to the user's customer.
    """
    intent_id = request.GET.get("payment_intent") or request.GET.get("setup_intent") or ""
    context: dict[str, Any] = {"intent": None}
    if intent_id.startswith(("pi_", "seti_")):
        account = account_for(request)
        try:
            customer = get_or_create_customer(request.user, account=account)  # type: ignore[arg-type]
            client = get_client(account)
            if intent_id.startswith("pi_"):
                intent = client.v1.payment_intents.retrieve(intent_id)
            else:
                intent = client.v1.setup_intents.retrieve(intent_id)
        except (CustomerSessionError, stripe.StripeError) as exc:
            logger.warning(
                "Cannot read %s for user %s: %s", intent_id, request.user.pk, type(exc).__name__
            )
        else:
            if intent.customer == customer:
                context["intent"] = {"id": intent.id, "status": intent.status}
    return render(request, "checkout_done.html", context)


@login_required
def pricing_table(request: HttpRequest) -> HttpResponse:
    return render(request, "pricing_table.html", {"table_id": settings.STRIPE_PRICING_TABLE_ID})


@login_required
def buy_button(request: HttpRequest) -> HttpResponse:
    return render(request, "buy_button.html", {"button_id": settings.STRIPE_BUY_BUTTON_ID})


@login_required
def spa(request: HttpRequest) -> HttpResponse:
    """A page that renders no secret: its script asks ``/api/customer-session/`` for one."""
    config = {
        **_checkout_config(request, "payment"),
        "sessionUrl": reverse("customer_sessions:customer-session"),
    }
    return render(request, "spa.html", {"product": PRODUCT, "config": config})
