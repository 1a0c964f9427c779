from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.debug import sensitive_variables
from rest_framework import exceptions, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from ..connect import account_for
from ..exceptions import CustomerSessionError
from ..sessions import create_customer_session
from .parsers import FormParser, JSONParser, MultiPartParser, api_exception, request_data
from .serializers import requested_components, response_body
from .throttles import CustomerSessionRateThrottle


class IsActiveUser(BasePermission):
    """Refuses users whose account is deactivated, whatever authenticated them."""

    message = "This account is inactive."
    code = "inactive_user"

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(getattr(request.user, "is_active", False))


class JSONOnly(BaseContentNegotiation):
    """Always JSON, whatever ``Accept`` says: errors are never an HTML page."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        for parser in parsers:
            if request.content_type.split(";")[0].strip() == parser.media_type:
                return parser
        return None

    def select_renderer(
        self, request: Request, renderers: Any, format_suffix: str | None = None
    ) -> tuple[Any, str]:
        return renderers[0], renderers[0].media_type


def _error_code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    if isinstance(exc, exceptions.ValidationError):
        return "invalid"
    return exc.default_code


def handle_exception(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error of the endpoint as ``{"code": …, "detail": …}`` JSON, never HTML.

    Validation errors add ``"errors"``: field name → list of messages. Django's own
    errors of a body past its limits become the endpoint's (see :mod:`.parsers`).
    """
    exc = api_exception(exc) or exc
    if isinstance(exc, CustomerSessionError):
        ours = Response({"code": exc.code, "detail": exc.detail}, status=exc.status_code)
        if exc.retry_after is not None and exc.status_code in (
            status.HTTP_429_TOO_MANY_REQUESTS,
            status.HTTP_503_SERVICE_UNAVAILABLE,
        ):
            ours["Retry-After"] = str(exc.retry_after)
        return ours
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    body: dict[str, Any] = {"code": _error_code(exc)}
    if isinstance(exc, exceptions.ValidationError):
        body["detail"] = "The request body is not valid."
        body["errors"] = exc.detail
    else:
        body["detail"] = str(exc.detail)
    response.data = body
    return response


class CustomerSessionView(APIView):
    """``POST``: a fresh Customer Session for the signed-in user.

    Body (optional): ``{"components": "<preset name>"}``. Answers 201 with
    ``{"client_secret", "expires_at", "customer"}``; errors are ``{"code", "detail"}``.
    """

    permission_classes = [IsAuthenticated, IsActiveUser]
    throttle_classes = [CustomerSessionRateThrottle]
    # JSON is what the docs show; form bodies are accepted too (an empty fetch() POST,
    # a plain <form> with its csrfmiddlewaretoken), and validated by the same serializer.
    # DRF's parsers, refusing what they would misread (see .parsers).
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONOnly

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        # The user's pending customer claim must commit on its own, even on sites with
        # ATOMIC_REQUESTS, so that a retry reuses its idempotency key.
        return transaction.non_atomic_requests(super().as_view(**initkwargs))

    def get_exception_handler(self) -> Any:
        return handle_exception

    @sensitive_variables("session", "data")
    def post(self, request: Request) -> Response:
        session = create_customer_session(
            request.user,  # type: ignore[arg-type]
            requested_components(request_data(request)),
            account=account_for(request),
            # The view's throttle_classes already spent the user's allowance.
            throttle=False,
        )
        data = response_body(session)
        return Response(data, status=status.HTTP_201_CREATED)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        add_never_cache_headers(response)
        patch_cache_control(response, no_store=True, private=True)
        return response
