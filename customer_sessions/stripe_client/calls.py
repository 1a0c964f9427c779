"""Every request the app sends to Stripe, each a sync and an async twin; nothing else calls it.

Each function takes the client to use, sends one request (stripe-python retries it as
configured), turns stripe-python's errors into the app's (:mod:`.errors`) and answers
with plain values: Stripe's response objects, whose ``repr`` can show a secret, never
leave the function that received them.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import stripe
from django.views.decorators.debug import sensitive_variables

from ..conf import get_settings
from ..exceptions import CustomerSessionError
from ..values import ClientSecret, CustomerSession, CustomerStatus
from .clients import get_async_client, get_client
from .errors import stripe_errors

# --- customers ------------------------------------------------------------------------


def create_customer(
    client: stripe.StripeClient, user_pk: Any, params: Any, idempotency_key: str
) -> str | None:
    """A new customer's id; ``None`` when Stripe refuses ``idempotency_key`` because it was
    first used with other parameters (an earlier attempt's, before the user changed)."""
    with stripe_errors("create a customer", user_pk):
        try:
            customer = client.v1.customers.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except stripe.IdempotencyError:
            return None
    return str(customer.id)


def customer_status(client: stripe.StripeClient, user_pk: Any, customer_id: str) -> CustomerStatus:
    """What Stripe says of ``customer_id``: one retrieve."""
    with stripe_errors("retrieve a customer", user_pk, customer_id):
        try:
            customer = client.v1.customers.retrieve(customer_id)
        except stripe.InvalidRequestError as exc:
            return _status_of_missing(exc)
    return CustomerStatus.DELETED if getattr(customer, "deleted", False) else CustomerStatus.OK


async def acustomer_status(
    client: stripe.StripeClient, user_pk: Any, customer_id: str
) -> CustomerStatus:
    """:func:`customer_status`, awaiting Stripe."""
    with stripe_errors("retrieve a customer", user_pk, customer_id):
        try:
            customer = await client.v1.customers.retrieve_async(customer_id)
        except stripe.InvalidRequestError as exc:
            return _status_of_missing(exc)
    return CustomerStatus.DELETED if getattr(customer, "deleted", False) else CustomerStatus.OK


def _status_of_missing(exc: stripe.InvalidRequestError) -> CustomerStatus:
    if exc.code != "resource_missing":
        raise exc
    if "a similar object exists in" in (exc.user_message or str(exc)):
        return CustomerStatus.WRONG_MODE
    return CustomerStatus.MISSING


def delete_customer(client: stripe.StripeClient, user_pk: Any, customer_id: str) -> None:
    """Delete ``customer_id``; one Stripe no longer has counts as deleted."""
    with stripe_errors("delete a customer", user_pk, customer_id):
        try:
            client.v1.customers.delete(customer_id)
        except stripe.InvalidRequestError as exc:
            if exc.code != "resource_missing":
                raise


# --- customer-configured accounts (Accounts v2) ----------------------------------------


def create_account(
    client: stripe.StripeClient, user_pk: Any, params: Any, idempotency_key: str
) -> str | None:
    """A new customer-configured Account's id (``POST /v2/core/accounts``, a JSON body);
    ``None`` when Stripe refuses ``idempotency_key`` as first used with other parameters."""
    with stripe_errors("create a customer account", user_pk):
        try:
            account = client.v2.core.accounts.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except stripe.IdempotencyError:
            return None
    return str(account.id)


def account_status(client: stripe.StripeClient, user_pk: Any, account_id: str) -> CustomerStatus:
    """What Stripe says of a customer account: one ``GET /v2/core/accounts/{id}``; closed
    counts as deleted (Stripe never deletes an Account, it closes it)."""
    with stripe_errors("retrieve a customer account", user_pk, account_id):
        try:
            account = client.v2.core.accounts.retrieve(account_id)
        except stripe.InvalidRequestError as exc:
            return _status_of_missing(exc)
    return CustomerStatus.DELETED if getattr(account, "closed", False) else CustomerStatus.OK


async def aaccount_status(
    client: stripe.StripeClient, user_pk: Any, account_id: str
) -> CustomerStatus:
    """:func:`account_status`, awaiting Stripe."""
    with stripe_errors("retrieve a customer account", user_pk, account_id):
        try:
            account = await client.v2.core.accounts.retrieve_async(account_id)
        except stripe.InvalidRequestError as exc:
            return _status_of_missing(exc)
    return CustomerStatus.DELETED if getattr(account, "closed", False) else CustomerStatus.OK


def close_account(client: stripe.StripeClient, user_pk: Any, account_id: str) -> None:
    """Close a customer account (its customer configuration); one Stripe no longer has, or
    closed already, counts as closed."""
    with stripe_errors("close a customer account", user_pk, account_id):
        try:
            client.v2.core.accounts.close(
                account_id, params={"applied_configurations": ["customer"]}
            )
        except stripe.InvalidRequestError as exc:
            if exc.code != "resource_missing":
                raise


# --- customer sessions ----------------------------------------------------------------


@sensitive_variables()
def create_session(
    client: stripe.StripeClient,
    user_pk: Any,
    customer_id: str,
    components: dict[str, Any],
    *,
    customer_account: bool = False,
) -> CustomerSession | None:
    """A fresh Customer Session; ``None`` when Stripe does not know the customer.

    ``customer_account``: ``customer_id`` is a customer-configured Account (``acct_…``),
    sent as ``customer_account`` (and no ``customer``).
    """
    with stripe_errors("create a customer session", user_pk, customer_id):
        try:
            response = client.v1.customer_sessions.create(
                params=_session_params(customer_id, components, customer_account)
            )
        except stripe.InvalidRequestError as exc:
            if _is_missing_customer(exc):
                return None
            raise
    return _session_from(response, customer_id, components, customer_account)


@sensitive_variables()
async def acreate_session(
    client: stripe.StripeClient,
    user_pk: Any,
    customer_id: str,
    components: dict[str, Any],
    *,
    customer_account: bool = False,
) -> CustomerSession | None:
    """:func:`create_session`, awaiting Stripe."""
    with stripe_errors("create a customer session", user_pk, customer_id):
        try:
            response = await client.v1.customer_sessions.create_async(
                params=_session_params(customer_id, components, customer_account)
            )
        except stripe.InvalidRequestError as exc:
            if _is_missing_customer(exc):
                return None
            raise
    return _session_from(response, customer_id, components, customer_account)


def _session_params(customer_id: str, components: dict[str, Any], customer_account: bool) -> Any:
    key = "customer_account" if customer_account else "customer"
    return {key: customer_id, "components": components}


def _is_missing_customer(exc: stripe.InvalidRequestError) -> bool:
    return exc.code == "resource_missing" and getattr(exc, "param", None) in (
        "customer",
        "customer_account",
    )


def _answered_components(response: Any) -> dict[str, Any] | None:
    """The components of Stripe's answer as plain dicts, read from the decoded JSON body.

    ``last_response.data`` is the same on every stripe-python major the app supports;
    ``StripeObject.to_dict()`` is not (deprecated in 14, a dict subclass there, neither in 16).
    """
    raw = getattr(getattr(response, "last_response", None), "data", None) or {}
    answered = raw.get("components")
    return _plain(answered) if isinstance(answered, dict) else None


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@sensitive_variables()
def _session_from(
    response: Any, customer_id: str, components: dict[str, Any], customer_account: bool
) -> CustomerSession:
    answered = _answered_components(response)
    answered_account = getattr(response, "customer_account", None) or None
    if customer_account and not answered_account:
        answered_account = customer_id
    fallback = "" if customer_account else customer_id
    return CustomerSession(
        client_secret=ClientSecret(response.client_secret),
        expires_at=int(response.expires_at),
        customer=str(getattr(response, "customer", None) or fallback),
        livemode=bool(response.livemode),
        # What Stripe answered; what was asked for if Stripe left it out.
        components=MappingProxyType(answered if answered is not None else components),
        created=int(getattr(response, "created", 0) or 0),
        customer_account=answered_account,
    )


# --- the account the key belongs to ---------------------------------------------------

# Asked once per key per process, and only to name the account in an error.
_platform_accounts: dict[tuple[str, str | None], str] = {}
UNREADABLE_ACCOUNT = "(an account whose id this key may not read)"


def platform_account(user_pk: Any) -> str:
    """The id of the Stripe account the configured key belongs to (``GET /v1/account``)."""
    conf = get_settings()
    key = (conf.require_secret_key(), conf.API_BASE)
    if key not in _platform_accounts:
        try:
            with stripe_errors("read its account", user_pk):
                account = get_client().v1.accounts.retrieve_current()
        except CustomerSessionError:
            return UNREADABLE_ACCOUNT
        _platform_accounts[key] = str(account.id)
    return _platform_accounts[key]


async def aplatform_account(user_pk: Any) -> str:
    """:func:`platform_account`, awaiting Stripe."""
    conf = get_settings()
    key = (conf.require_secret_key(), conf.API_BASE)
    if key not in _platform_accounts:
        try:
            with stripe_errors("read its account", user_pk):
                account = await get_async_client().v1.accounts.retrieve_current_async()
        except CustomerSessionError:
            return UNREADABLE_ACCOUNT
        _platform_accounts[key] = str(account.id)
    return _platform_accounts[key]
