from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from customer_sessions.models import Mode, StripeCustomer


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = "Ada"
    last_name = factory.Sequence(lambda n: f"Lovelace{n}")
    password = factory.django.Password("pw")


class StripeCustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StripeCustomer

    user = factory.SubFactory(UserFactory)
    mode = Mode.TEST
    account = ""
    customer_id = factory.Sequence(lambda n: f"cus_factory{n:06d}")
