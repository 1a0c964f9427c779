"""A Customer Session for a user, from their request to Stripe and back: sync and async twins.

Both twins read top to bottom and do the same steps; the rules (who may have a session,
which components, what a refused session means, what is logged and signalled) are the
plain helpers below them, which both call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.views.decorators.debug import sensitive_variables

from .budget import aspend_site_budget, spend_site_budget
from .conf import AppSettings, get_settings
from .exceptions import (
    CustomerNotInAccount,
    CustomerSessionError,
    StripeInvalidRequest,
    UnknownComponents,
)
from .mapping import (
    MappedCustomer,
    acreate_mapped_customer,
    amapped_customer,
    areplace_customer,
    check_user,
    create_mapped_customer,
    current_mode,
    mapped_customer,
    replace_customer,
)
from .middleware import mark_current_issued
from .models import Mode, ReplacedStripeCustomer, StripeCustomer
from .signals import session_created
from .stripe_client import calls, get_async_client, get_client
from .throttling import aspend_for_user, spend_for_user
from .values import CustomerSession, CustomerStatus

logger = logging.getLogger(__name__)


@sensitive_variables()
def create_customer_session(
    user: AbstractBaseUser,
    components: str | None = None,
    *,
    account: str = "",
    throttle: bool = True,
) -> CustomerSession:
    """Create a fresh Customer Session for ``user``; its secret is never stored.

    ``components`` names one of ``COMPONENT_PRESETS`` (the default preset when ``None``);
    ``account`` is a connected account id, or ``""`` for the platform. The user's Stripe
    customer is created first if they have none. Each session spends one of the user's
    ``THROTTLE_RATE`` allowance, the same one the endpoint and the tag spend
    (:class:`~customer_sessions.exceptions.SessionThrottled` when it is used up);
    ``throttle=False`` for a caller that counted already. Raises a subclass of
    :class:`~customer_sessions.exceptions.CustomerSessionError` when Stripe fails.
    """
    asked = _Asked.of(user, components, account)
    if throttle:
        spend_for_user(user)
    spend_site_budget()
    client = get_client(account)
    customer = mapped_customer(user, asked.mode, account)
    if customer is None:
        customer = create_mapped_customer(user, asked.mode, account)
    session = calls.create_session(
        client, user.pk, customer.id, asked.components, customer_account=customer.is_account
    )
    if session is None:
        status = _status_call(customer)(client, user.pk, customer.id)
        if status is not CustomerStatus.DELETED:
            raise _refused(asked, customer, status, calls.platform_account(user.pk))
        replace_customer(user, asked.mode, account, customer.id, _DELETED)
        customer = create_mapped_customer(user, asked.mode, account)
        session = calls.create_session(
            client, user.pk, customer.id, asked.components, customer_account=customer.is_account
        )
        if session is None:
            raise _new_customer_missing(asked, customer.id)
    session_created.send(**_created(asked, session))
    return session


@sensitive_variables()
async def acreate_customer_session(
    user: AbstractBaseUser,
    components: str | None = None,
    *,
    account: str = "",
    throttle: bool = True,
) -> CustomerSession:
    """:func:`create_customer_session` for async code: awaits Stripe, blocks no thread.

    Under ASGI one worker serves many users while Stripe answers. Same rules, same errors.
    A user's first customer is created in a thread of its own (it holds a row lock while
    Stripe answers); the mapping query runs in Django's database thread, as the async ORM
    runs queries.
    """
    asked = _Asked.of(user, components, account)
    if throttle:
        await aspend_for_user(user)
    await aspend_site_budget()
    client = get_async_client(account)
    customer = await amapped_customer(user, asked.mode, account)
    if customer is None:
        customer = await acreate_mapped_customer(user, asked.mode, account)
    session = await calls.acreate_session(
        client, user.pk, customer.id, asked.components, customer_account=customer.is_account
    )
    if session is None:
        status = await _astatus_call(customer)(client, user.pk, customer.id)
        if status is not CustomerStatus.DELETED:
            raise _refused(asked, customer, status, await calls.aplatform_account(user.pk))
        await areplace_customer(user, asked.mode, account, customer.id, _DELETED)
        customer = await acreate_mapped_customer(user, asked.mode, account)
        session = await calls.acreate_session(
            client, user.pk, customer.id, asked.components, customer_account=customer.is_account
        )
        if session is None:
            raise _new_customer_missing(asked, customer.id)
    await session_created.asend(**_created(asked, session))
    return session


# --- the rules, which both twins follow -------------------------------------------------

_DELETED = ReplacedStripeCustomer.Reason.DELETED


@dataclass(frozen=True, slots=True)
class _Asked:
    """A session asked for: checked before anything is spent or sent."""

    user: Any
    preset: str
    components: dict[str, Any]
    mode: Mode
    account: str

    @classmethod
    def of(cls, user: Any, preset: str | None, account: str) -> _Asked:
        check_user(user)
        conf = get_settings()
        name = conf.DEFAULT_COMPONENTS if preset is None else preset
        return cls(user, name, components_of(conf, name), current_mode(), account)


def components_of(conf: AppSettings, preset: str) -> dict[str, Any]:
    """The components of ``preset``; :class:`UnknownComponents` for a name not configured."""
    try:
        return conf.components(preset)
    except KeyError:
        raise UnknownComponents(
            f"Unknown components preset {preset!r}; choose one of "
            f"{', '.join(sorted(conf.COMPONENT_PRESETS))}."
        ) from None


def _status_call(customer: MappedCustomer) -> Any:
    """How to ask Stripe what became of ``customer``: a Customer's retrieve, or an
    Account's (closed counts as deleted)."""
    return calls.account_status if customer.is_account else calls.customer_status


def _astatus_call(customer: MappedCustomer) -> Any:
    return calls.aaccount_status if customer.is_account else calls.acustomer_status


def _refused(
    asked: _Asked, customer: MappedCustomer, status: CustomerStatus, platform: str
) -> CustomerSessionError:
    """Stripe refused a session for a customer it did not confirm deleted: keep the mapping.

    A customer the account has never heard of means the key belongs to another account
    than the one that made it (a key pasted from elsewhere): a configuration error,
    logged with the account, never a reason to make the user a new customer there.
    """
    user = asked.user
    customer_id = customer.id
    if status is CustomerStatus.OK:
        logger.error(
            "Stripe refused a session for customer %s of user %s as missing, yet retrieves it.",
            customer_id,
            user.pk,
        )
        return StripeInvalidRequest()
    where = f"connected account {asked.account} of " if asked.account else ""
    logger.error(
        "Stripe %saccount %s (%s mode, the one CUSTOMER_SESSIONS['SECRET_KEY'] belongs to) "
        "does not have customer %s of user %s; the mapping is kept and no new customer is "
        "made. If the key was pointed at another Stripe account, point it back. If the "
        "customer was removed for good, `manage.py customer_sessions_verify --fix` forgets it.",
        where,
        platform,
        asked.mode,
        customer_id,
        user.pk,
    )
    return CustomerNotInAccount()


def _new_customer_missing(asked: _Asked, customer_id: str) -> StripeInvalidRequest:
    logger.error(
        "Stripe reports the new customer %s of user %s missing.", customer_id, asked.user.pk
    )
    return StripeInvalidRequest()


def _created(asked: _Asked, session: CustomerSession) -> dict[str, Any]:
    """Log the session, mark the response being served, and the ``session_created`` kwargs."""
    # The response of the request being served carries a secret now: never cached.
    mark_current_issued()
    logger.info(
        "Created a customer session for user %s (customer %s, components %s).",
        asked.user.pk,
        session.customer,
        ",".join(session.enabled_components),
    )
    return {
        "sender": StripeCustomer,
        "user": asked.user,
        "customer_id": session.customer,
        "mode": asked.mode,
        "account": asked.account,
        "components": session.enabled_components,
        "expires_at": session.expires_at,
    }
