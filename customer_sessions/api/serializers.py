from __future__ import annotations

from typing import Any

from django.http import QueryDict
from rest_framework import serializers

from ..conf import get_settings


class CustomerSessionRequestSerializer(serializers.Serializer[Any]):
    """The optional request body: ``{"components": "<preset name>"}`` and nothing else.

    There is deliberately no way to name a customer: the customer is always the one
    mapped to the signed-in user.
    """

    components = serializers.CharField(
        required=False,
        max_length=100,
        help_text="Name of a components preset (CUSTOMER_SESSIONS['COMPONENT_PRESETS']).",
    )

    default_error_messages = {
        "unknown_field": "Unknown field. Only 'components' may be sent.",
        "repeated_field": "Send this field once.",
    }

    def validate_components(self, value: str) -> str:
        presets = get_settings().COMPONENT_PRESETS
        if value not in presets:
            raise serializers.ValidationError(
                f"Unknown components preset. Choose one of: {', '.join(sorted(presets))}.",
                code="unknown_components",
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if isinstance(self.initial_data, QueryDict):
            # A form may repeat a field; the field would read its last value only.
            repeated = sorted(name for name, values in self.initial_data.lists() if len(values) > 1)
            if repeated:
                raise serializers.ValidationError(
                    {name: [self.error_messages["repeated_field"]] for name in repeated},
                    code="repeated_field",
                )
        if isinstance(self.initial_data, dict):
            unknown = sorted(set(self.initial_data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: [self.error_messages["unknown_field"]] for name in unknown},
                    code="unknown_field",
                )
        return attrs


class SecretField(serializers.CharField):
    """Keeps the value a :class:`~customer_sessions.services.ClientSecret` (masked repr)."""

    def to_representation(self, value: Any) -> Any:
        return value


class CustomerSessionSerializer(serializers.Serializer[Any]):
    """The 201 response body."""

    client_secret = SecretField(
        help_text="Hand to Stripe.js as customerSessionClientSecret; never store it."
    )
    expires_at = serializers.IntegerField(help_text="When the secret expires (Unix time).")
    customer = serializers.CharField(help_text="The signed-in user's Stripe customer id.")


#: The field of Django's CSRF token in an HTML form (``{% csrf_token %}``). Django's CSRF
#: check (DRF's, for session authentication) reads it from a form body; it names no preset.
CSRF_FIELD = "csrfmiddlewaretoken"


def requested_components(data: Any) -> str | None:
    """The preset a request body names, validated by :class:`CustomerSessionRequestSerializer`.

    An empty body (what most pages send) is valid and names none: answered without
    building a serializer on every session. Any other body goes through the serializer.
    A form's CSRF token is not a field of the body (in JSON it is an unknown field, as
    Django reads it from forms only).
    """
    if isinstance(data, QueryDict) and CSRF_FIELD in data:
        data = data.copy()
        del data[CSRF_FIELD]
    if isinstance(data, dict) and not data:
        return None
    serializer = CustomerSessionRequestSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    components: str | None = serializer.validated_data.get("components")
    return components


def response_body(session: Any) -> dict[str, Any]:
    """``CustomerSessionSerializer(session).data``, without building a serializer per session.

    The serializer stays the documented shape (the OpenAPI schema); a test keeps both equal.
    """
    return {
        "client_secret": session.client_secret,
        "expires_at": int(session.expires_at),
        "customer": str(session.customer),
    }
