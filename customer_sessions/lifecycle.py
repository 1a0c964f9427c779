"""What becomes of a user's Stripe customers when their mapping or the user is deleted.

- Every mapping deleted (with its user, or on its own from the shell) leaves a
  :class:`~customer_sessions.models.ReplacedStripeCustomer` row with the customer id and
  the user's primary key (reason ``user_deleted`` or ``mapping_deleted``), which outlives
  the user: the customers of deleted users can always be found.
- With ``CUSTOMER_SESSIONS["DELETE_CUSTOMERS_WITH_USER"]``, once the user's deletion has
  committed, their customers are deleted in Stripe too (every connected account, in the
  configured key's mode); a failure is logged and ``customer_sessions_verify`` reports the
  customers of deleted users that are still in Stripe.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.db import router, transaction
from django.db.models import QuerySet
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone

from .conf import get_settings
from .exceptions import CustomerSessionError
from .models import ReplacedStripeCustomer, StripeCustomer

logger = logging.getLogger(__name__)


def _deleted_with_its_user(origin: Any) -> bool:
    """Whether a deletion started from a user (an instance or a queryset of users)."""
    user_model = get_user_model()
    if isinstance(origin, QuerySet):
        return bool(origin.model is user_model)
    return isinstance(origin, user_model)


@receiver(pre_delete, sender=StripeCustomer, dispatch_uid="customer_sessions.keep_audit")
def keep_audit(sender: Any, instance: StripeCustomer, origin: Any = None, **kwargs: Any) -> None:
    """Record the customer of a mapping about to be deleted; schedule its deletion in Stripe."""
    if not instance.customer_id:  # a pending claim: no customer to remember
        return
    with_user = _deleted_with_its_user(origin)
    reason = (
        ReplacedStripeCustomer.Reason.USER_DELETED
        if with_user
        else ReplacedStripeCustomer.Reason.MAPPING_DELETED
    )
    # No link to the user: the row must not stop (or go with) the user's deletion.
    record = ReplacedStripeCustomer.objects.create(
        user=None,
        user_pk=str(instance.user_id),
        mode=instance.mode,
        account=instance.account,
        customer_object=instance.customer_object,
        customer_id=instance.customer_id,
        reason=reason,
    )
    logger.info(
        "The mapping of user %s to customer %s is deleted (%s); the customer id is kept.",
        instance.user_id,
        instance.customer_id,
        reason,
    )
    if with_user and get_settings().DELETE_CUSTOMERS_WITH_USER:
        using = router.db_for_write(StripeCustomer)
        transaction.on_commit(lambda: delete_in_stripe(record.pk), using=using)


def delete_in_stripe(record_pk: int) -> bool:
    """Delete the customer of a deleted user's record in Stripe; whether it is gone now."""
    from .maintenance import delete_stripe_customer

    record = ReplacedStripeCustomer.objects.get(pk=record_pk)
    try:
        delete_stripe_customer(
            record.customer_id,
            mode=record.mode,
            account=record.account,
            user_pk=record.user_pk,
            customer_object=record.customer_object,
        )
    except CustomerSessionError as exc:
        logger.error(
            "Could not delete Stripe customer %s of deleted user %s%s: %s (%s). "
            "`manage.py customer_sessions_verify` reports it until it is deleted.",
            record.customer_id,
            record.user_pk,
            f" on {record.account}" if record.account else "",
            exc.code,
            exc.detail,
        )
        return False
    ReplacedStripeCustomer.objects.filter(pk=record.pk).update(stripe_deleted_at=timezone.now())
    logger.info(
        "Deleted Stripe customer %s of deleted user %s.", record.customer_id, record.user_pk
    )
    return True
