"""Default implementations of the app's pluggable functions (see ``conf.DEFAULTS``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser

#: The longest customer name Stripe accepts.
STRIPE_NAME_MAX_LENGTH = 256


def customer_params(user: AbstractBaseUser) -> dict[str, Any]:
    """The parameters of a new Stripe customer for ``user``.

    Email and name where the user model has them (custom user models may not), and the
    user's primary key as ``metadata[django_user_id]`` so the dashboard links back.
    """
    params: dict[str, Any] = {"metadata": {"django_user_id": str(user.pk)}}
    email_field = getattr(type(user), "EMAIL_FIELD", None) or "email"
    email = getattr(user, email_field, None)
    if isinstance(email, str) and email:
        params["email"] = email
    get_full_name = getattr(user, "get_full_name", None)
    name = get_full_name() if callable(get_full_name) else None
    if not name:
        name = user.get_username()
    if isinstance(name, str) and name.strip():
        # Stripe refuses a name longer than 256 characters, and Django's first and last
        # names together reach 301: cut it, or such a user could never get a customer.
        params["name"] = name.strip()[:STRIPE_NAME_MAX_LENGTH].rstrip()
    return params


def account_params(user: AbstractBaseUser) -> dict[str, Any]:
    """The JSON body of a new customer-configured Account for ``user`` (``CUSTOMER_OBJECT``
    ``"account"``): what ``CUSTOMER_PARAMS`` gives, in the Account's names.

    ``email`` becomes ``contact_email``, ``name`` ``display_name``, ``metadata`` stays
    (``django_user_id`` included); the Account gets an empty ``customer`` configuration,
    answered in the response (``include``). A site wanting more sets ``ACCOUNT_PARAMS``.
    """
    from .conf import get_settings

    given = get_settings().customer_params_func()(user)
    params: dict[str, Any] = {
        "configuration": {"customer": {}},
        "include": ["configuration.customer"],
        "metadata": dict(given.get("metadata") or {}),
    }
    if given.get("email"):
        params["contact_email"] = given["email"]
    if given.get("name"):
        params["display_name"] = given["name"]
    return params
