"""A Customer Session the way a dj-stripe site makes one today (``.venv-bench-djstripe/``).

dj-stripe has no Customer Session support: a site gets the user's customer with
``Customer.get_or_create`` and calls Stripe itself, through stripe-python's module API with
dj-stripe's key.
"""

from __future__ import annotations

from typing import Any

import stripe
from djstripe.models import Customer
from djstripe.settings import djstripe_settings
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .views import COMPONENTS


class DjStripeSessionView(APIView):
    def post(self, request: Request) -> Response:
        customer, _created = Customer.get_or_create(subscriber=request.user)
        session: Any = stripe.CustomerSession.create(
            api_key=djstripe_settings.get_default_api_key(livemode=False),
            customer=customer.id,
            components=COMPONENTS,
        )
        return Response(
            {
                "client_secret": session.client_secret,
                "expires_at": session.expires_at,
                "customer": customer.id,
            },
            status=status.HTTP_201_CREATED,
        )
