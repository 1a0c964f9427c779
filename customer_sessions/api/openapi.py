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
from .serializers import CSRF_FIELD, CustomerSessionSerializer

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
CSRF_TOKEN = {
    "type": "string",
    "description": "Django's CSRF token, as {% csrf_token %} puts it in a plain HTML form "
    "(instead of the X-CSRFToken header).",
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
    ``components=`` means the default preset; a form may carry Django's CSRF token.
    """
    presets = sorted(get_settings().COMPONENT_PRESETS)

    def body(choices: list[str], **more: Any) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"components": {"type": "string", "enum": choices}, **more},
            "additionalProperties": False,
        }

    form = body(["", *presets], **{CSRF_FIELD: CSRF_TOKEN})
    return {
        "application/json": body(presets),
        "application/x-www-form-urlencoded": form,
        "multipart/form-data": form,
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
                    400: _error(
                        "`invalid` (with errors by field): an unknown field or preset, a "
                        "file, a form field given twice. `parse_error`: the body is not valid "
                        "JSON (nested too deeply, a name given twice), a malformed or "
                        "cut-off multipart body, or a body shorter than its Content-Length."
                    ),
                    401: _error(
                        "`not_authenticated`, `authentication_failed`: no credentials, or "
                        "credentials refused, when the site's first authentication class "
                        "names a scheme (DRF's token: `WWW-Authenticate: Token`)."
                    ),
                    403: _error(
                        "`not_authenticated`, `authentication_failed`, `permission_denied` "
                        "(the CSRF token is missing or wrong), `inactive_user`."
                    ),
                    411: _error(
                        "`length_required`: the body was sent without Content-Length (chunked)."
                    ),
                    413: _error(
                        "`request_too_large`: the body is over DATA_UPLOAD_MAX_MEMORY_SIZE. "
                        "`too_many_fields`: more form fields or JSON names than "
                        "DATA_UPLOAD_MAX_NUMBER_FIELDS (or files than "
                        "DATA_UPLOAD_MAX_NUMBER_FILES)."
                    ),
                    415: _error(
                        "`unsupported_media_type`: neither JSON nor a form, a charset that is "
                        "not a text encoding, or a Content-Encoding."
                    ),
                    429: _error("`throttled`: the per-user throttle engaged."),
                    500: _error(
                        "`stripe_misconfigured`, `too_many_missing_customers`: Stripe is not "
                        "configured correctly (the ACCOUNT function included). "
                        "`stripe_invalid_request`, `customer_conflict`: Stripe refused the "
                        "request, or returned another user's customer."
                    ),
                    503: _error("`stripe_unavailable`, `stripe_rate_limited`."),
                },
            )
            def post(self, request: Any) -> Any:
                return super().post(request)

        return Described
