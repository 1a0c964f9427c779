from __future__ import annotations

from typing import Any

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
