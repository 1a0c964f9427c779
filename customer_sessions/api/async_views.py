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

from ..services import _arun, _start_in_thread, account_for
from .parsers import request_data
from .serializers import requested_components, response_body
from .views import CustomerSessionView


class AsyncCustomerSessionView(CustomerSessionView):
    """``POST``: a fresh Customer Session for the signed-in user, awaiting Stripe.

    Everything before Stripe is :class:`CustomerSessionView`'s own code (the same
    authentication, CSRF, permission, throttle and serializer classes, run in Django's
    thread for sync code, as they may touch the database), and in the same pass the
    mapping is read; then Stripe is awaited (the rules of :func:`acreate_customer_session`),
    so the worker serves other users meanwhile.
    Errors go through the same handler and every response gets the same headers.
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
        steps, step = await sync_to_async(self._checked)(request, *args, **kwargs)
        session = await _arun(steps, step)
        data = response_body(session)
        return Response(data, status=status.HTTP_201_CREATED)

    def _checked(self, request: Request, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        """Authentication, permissions, throttle and the body, as the sync view checks them.

        Then, in the same pass in Django's thread, the session's steps up to the first one
        that awaits Stripe (the mapping query): what :func:`acreate_customer_session` does.
        """
        self.initial(request, *args, **kwargs)
        user = request.user
        components = requested_components(request_data(request))
        return _start_in_thread(user, components, account_for(request))  # type: ignore[arg-type]
