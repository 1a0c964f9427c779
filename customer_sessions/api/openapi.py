"""The endpoint's OpenAPI description, for sites that use drf-spectacular.

Loaded by the app only when drf-spectacular is installed (it is not a dependency). The
request body lists the configured component presets; every error the endpoint can answer
is described with its ``{"code", "detail"[, "errors"]}`` body.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from ..conf import get_settings
from .serializers import CustomerSessionSerializer

ERROR = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "Stable, machine-readable error code."},
        "detail": {"type": "string", "description": "Safe to show to the user."},
        "errors": {
            "type": "object",
            "description": "Validation errors: field name → messages.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["code", "detail"],
}
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    type=int,
    location=OpenApiParameter.HEADER,
    response=[429, 503],
    description="Seconds to wait before trying again.",
)


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ERROR, description=description)


def request_body() -> dict[str, Any]:
    """``{"components": <preset>}`` or nothing; the presets are read from the settings.

    Form bodies follow DRF's HTML-form rule: an empty field counts as not sent, so
    ``components=`` means the default preset.
    """
    presets = sorted(get_settings().COMPONENT_PRESETS)

    def body(choices: list[str]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"components": {"type": "string", "enum": choices}},
            "additionalProperties": False,
        }

    return {
        "application/json": body(presets),
        "application/x-www-form-urlencoded": body(["", *presets]),
        "multipart/form-data": body(["", *presets]),
    }


class CustomerSessionViewSchema(OpenApiViewExtension):
    target_class = "customer_sessions.api.views.CustomerSessionView"

    def view_replacement(self) -> Any:
        class Described(self.target_class):  # type: ignore[name-defined]
            @extend_schema(
                operation_id="customer_session_create",
                summary="A fresh Customer Session for the signed-in user",
                request=request_body(),
                parameters=[RETRY_AFTER],
                responses={
                    201: CustomerSessionSerializer,
                    400: _error("The body is not valid or not parseable."),
                    403: _error("Not signed in, inactive, or the CSRF token is missing."),
                    415: _error("The body's media type is not accepted."),
                    429: _error("The per-user throttle engaged."),
                    500: _error("Stripe is not configured correctly or refused the request."),
                    503: _error("Stripe is unavailable or rate limited."),
                },
            )
            def post(self, request: Any) -> Any:
                return super().post(request)

        return Described
