"""The parameters of a new customer: the default function, and a site's own."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from customer_sessions.services import get_or_create_customer

pytestmark = pytest.mark.django_db


def params_with_plan(user: Any) -> dict[str, Any]:
    return {
        "email": user.email,
        "description": f"Site user {user.pk}",
        "metadata": {"django_user_id": str(user.pk), "plan": "gold"},
        "preferred_locales": ["fr"],
    }


def test_the_customer_parameters_function_shapes_new_customers(fake_stripe, user):
    conf = {**settings.CUSTOMER_SESSIONS, "CUSTOMER_PARAMS": f"{__name__}.params_with_plan"}
    with override_settings(CUSTOMER_SESSIONS=conf):
        customer_id = get_or_create_customer(user)

    [customer] = fake_stripe.customers
    assert customer["id"] == customer_id
    assert customer["metadata"] == {"django_user_id": str(user.pk), "plan": "gold"}
    assert customer["description"] == f"Site user {user.pk}"
    assert customer["preferred_locales"] == ["fr"]
