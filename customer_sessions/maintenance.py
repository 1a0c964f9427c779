"""Checking mappings against Stripe and forgetting what Stripe no longer has (the admin,
the management commands, the webhook, a deleted user)."""

from __future__ import annotations

from typing import Any

from .conf import SETTING_NAME
from .exceptions import StripeMisconfigured
from .mapping import current_mode, replace_customer
from .models import CustomerObject, Mode, ReplacedStripeCustomer, StripeCustomer
from .stripe_client import calls, get_client
from .values import CustomerStatus


def verify_customer(mapping: StripeCustomer) -> CustomerStatus:
    """Ask Stripe whether ``mapping``'s customer still exists (one request, nothing changed).

    Raises the app's exceptions when Stripe cannot answer (unreachable, key refused).
    """
    if mapping.is_pending:
        return CustomerStatus.PENDING
    if mapping.mode != current_mode():
        return CustomerStatus.OTHER_MODE
    return customer_status(
        mapping.customer_id,
        account=mapping.account,
        user_pk=mapping.user_id,
        customer_object=mapping.customer_object,
    )


def customer_status(
    customer_id: str,
    *,
    account: str = "",
    user_pk: Any = "",
    customer_object: CustomerObject | str = CustomerObject.CUSTOMER,
) -> CustomerStatus:
    """What Stripe says of ``customer_id`` (one request): ``OK``, ``DELETED``, ``MISSING``…

    ``customer_object="account"``: a customer-configured Account (``GET
    /v2/core/accounts/{id}``), ``DELETED`` when closed.
    """
    if customer_object == CustomerObject.ACCOUNT:
        return calls.account_status(get_client(account), user_pk, customer_id)
    return calls.customer_status(get_client(account), user_pk, customer_id)


_REASONS = {
    CustomerStatus.DELETED: ReplacedStripeCustomer.Reason.DELETED,
    CustomerStatus.MISSING: ReplacedStripeCustomer.Reason.MISSING,
    CustomerStatus.WRONG_MODE: ReplacedStripeCustomer.Reason.MISSING,
}


def forget_customer(
    customer_id: str,
    reason: ReplacedStripeCustomer.Reason | str,
    *,
    mode: Mode | str | None = None,
    account: str | None = None,
    customer_object: CustomerObject | str | None = None,
) -> bool:
    """Unmap ``customer_id`` so its user's next session creates a new customer.

    The old id is kept as a :class:`ReplacedStripeCustomer` with ``reason`` and
    ``customer_replaced`` is sent. A deletion Stripe confirmed (reason ``deleted``) is
    always forgotten; at most ``REPLACEMENT_LIMIT`` customers Stripe merely does not know
    (reason ``missing``) per mode and account within ``REPLACEMENT_WINDOW`` (then
    :class:`~customer_sessions.exceptions.TooManyReplacements`). ``mode``/``account``,
    when given, must match the mapping's, and ``customer_object`` what it points at (an
    ``acct_…`` id is forgotten as a customer account only, never as a Connect account).
    Returns whether a mapping was forgotten.
    """
    rows = StripeCustomer.objects.select_related("user").filter(customer_id=customer_id)
    if mode is not None:
        rows = rows.filter(mode=mode)
    if account is not None:
        rows = rows.filter(account=account)
    if customer_object is not None:
        rows = rows.filter(customer_object=customer_object)
    mapping = rows.first()
    if mapping is None or not customer_id:
        return False
    return replace_customer(
        mapping.user,
        Mode(mapping.mode),
        mapping.account,
        customer_id,
        ReplacedStripeCustomer.Reason(reason),
    )


def fix_customer(mapping: StripeCustomer, status: CustomerStatus) -> bool:
    """Forget ``mapping``'s customer if ``status`` says Stripe no longer has it."""
    reason = _REASONS.get(status)
    if reason is None:
        return False
    return forget_customer(
        mapping.customer_id,
        reason,
        mode=mapping.mode,
        account=mapping.account,
        customer_object=mapping.customer_object,
    )


def delete_stripe_customer(
    customer_id: str,
    *,
    mode: str,
    account: str = "",
    user_pk: Any = "",
    customer_object: CustomerObject | str = CustomerObject.CUSTOMER,
) -> None:
    """Delete ``customer_id`` in Stripe (for a deleted user: ``DELETE_CUSTOMERS_WITH_USER``);
    a customer-configured Account (``customer_object="account"``) is closed.

    A customer Stripe no longer has counts as deleted. Raises :class:`StripeMisconfigured`
    when the customer was made in the other mode than the configured key's (that mode's
    key is needed), and the app's errors when Stripe cannot answer.
    """
    key_mode = current_mode()
    if key_mode != mode:
        raise StripeMisconfigured(
            f"Customer {customer_id} was made in {mode} mode; deleting it needs that mode's "
            f"key, and {SETTING_NAME}['SECRET_KEY'] is a {key_mode} mode key."
        )
    if customer_object == CustomerObject.ACCOUNT:
        calls.close_account(get_client(account), user_pk, customer_id)
    else:
        calls.delete_customer(get_client(account), user_pk, customer_id)
