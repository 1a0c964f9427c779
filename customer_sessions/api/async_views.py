"""The session endpoint for ASGI sites: awaits Stripe instead of holding a thread.

Include ``customer_sessions.urls_async`` instead of ``customer_sessions.urls``; the URL,
name, request, responses and errors are those of
:class:`~customer_sessions.api.views.CustomerSessionView`.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from ..connect import account_for
from ..sessions import acreate_customer_session
from .parsers import request_data
from .serializers import requested_components, response_body
from .views import CustomerSessionView


class AsyncCustomerSessionView(CustomerSessionView):
    """``POST``: a fresh Customer Session for the signed-in user, awaiting Stripe.

    Everything before Stripe is :class:`CustomerSessionView`'s own code (the same
    authentication, CSRF, permission, throttle and serializer classes, run in Django's
    thread for sync code, as they may touch the database); then
    :func:`~customer_sessions.services.acreate_customer_session` awaits Stripe, so the
    worker serves other users meanwhile. Errors go through the same handler and every
    response gets the same headers.
    """

    async def dispatch(  # type: ignore[override]
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> Any:
        if request.method != "POST":
            # 405, OPTIONS: exactly what the sync view answers.
            return await sync_to_async(super().dispatch)(request, *args, **kwargs)
        # APIView.dispatch, with the handler awaited.
        self.args = args
        self.kwargs = kwargs
        drf_request = self.initialize_request(request, *args, **kwargs)
        self.request = drf_request
        self.headers = self.default_response_headers
        try:
            response = await self.post(drf_request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(drf_request, response, *args, **kwargs)
        return self.response

    @sensitive_variables("session", "data")
    async def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        user, preset, account = await sync_to_async(self.checked)(request, *args, **kwargs)
        session = await acreate_customer_session(
            user,
            preset,
            account=account,
            # The view's throttle_classes already spent the user's allowance.
            throttle=False,
        )
        data = response_body(session)
        return Response(data, status=status.HTTP_201_CREATED)

    def checked(self, request: Request, *args: Any, **kwargs: Any) -> tuple[Any, str | None, str]:
        """Authentication, permissions, throttle and the body, as the sync view checks them;
        the user, the preset asked for and the account."""
        self.initial(request, *args, **kwargs)
        return request.user, requested_components(request_data(request)), account_for(request)
