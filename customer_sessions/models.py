"""The user → Stripe customer mapping.

One row per (user, Stripe mode, connected account). A row is created as a *pending claim*
(``customer_id == ""``) holding the idempotency key of the user's customer, so that a
retry after a failed or timed-out attempt reuses the same key and Stripe replays the
customer it may already have made. The key is derived, not drawn: the same user, mode and
account always start from the same key (see :func:`first_idempotency_key`), so even a claim
that a site's transaction rolled back (``ATOMIC_REQUESTS``) is followed by the same key.
The row gets its ``customer_id`` only once Stripe has confirmed the customer: a mapping
never points at an unconfirmed customer.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

KEY_PREFIX = "customer-sessions-"


def new_idempotency_key() -> str:
    """A random key, for claims made outside the app (the field's default)."""
    return f"{KEY_PREFIX}{uuid.uuid4().hex}"


def first_idempotency_key(user: Any, mode: str, account: str, customer_object: str = "") -> str:
    """The key of ``user``'s first customer in ``mode`` and ``account``: always the same.

    Derived with the site's ``SECRET_KEY`` (so two sites on one Stripe account never share
    keys) from the user's primary key *and* username (so a primary key reused after a
    database reset, by somebody else, gets another key). A claim rolled back with the
    site's transaction is thus retried with the key Stripe saw, and Stripe replays the
    customer it made instead of making a second one (within Stripe's 24 hours).
    A customer-configured Account (``customer_object="account"``) has keys of its own; a
    Customer's are the same as before that choice existed.
    """
    parts = [str(user.pk), str(user.get_username()), str(mode), account]
    if customer_object and customer_object != "customer":
        parts.append(customer_object)
    return _derived("\x1f".join(parts))


def next_idempotency_key(previous: str) -> str:
    """The key after ``previous`` (the customer was replaced, or the create refused it)."""
    return _derived(previous)


def _derived(value: str) -> str:
    digest = salted_hmac("customer_sessions.idempotency", value, algorithm="sha256")
    return KEY_PREFIX + digest.hexdigest()


class Mode(models.TextChoices):
    TEST = "test", _("Test")
    LIVE = "live", _("Live")


class CustomerObject(models.TextChoices):
    """What a mapping points at (the ``CUSTOMER_OBJECT`` setting says what new ones get)."""

    #: A v1 Customer, ``cus_…``.
    CUSTOMER = "customer", _("Customer")
    #: An Accounts v2 Account with a customer configuration, ``acct_…`` (not a Connect
    #: account the ``ACCOUNT`` setting names: that one is the ``account`` column).
    ACCOUNT = "account", _("Customer-configured account")


class StripeCustomer(models.Model):
    """The Stripe customer of one user, in one Stripe mode, on one account."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="stripe_customers",
        verbose_name=_("user"),
    )
    mode = models.CharField(_("mode"), max_length=4, choices=Mode.choices)
    account = models.CharField(
        _("connected account"),
        max_length=255,
        blank=True,
        default="",
        help_text=_('The Stripe connected account ("acct_…"); empty for the platform account.'),
    )
    customer_object = models.CharField(
        _("customer object"),
        max_length=8,
        choices=CustomerObject.choices,
        default=CustomerObject.CUSTOMER,
        help_text=_(
            'What customer_id names: a Customer ("cus_…") or a customer-configured '
            'Account ("acct_…").'
        ),
    )
    customer_id = models.CharField(
        _("customer id"),
        max_length=255,
        blank=True,
        default="",
        help_text=_("Empty while the customer is being created."),
    )
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=255, default=new_idempotency_key, editable=False
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("Stripe customer")
        verbose_name_plural = _("Stripe customers")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "mode", "account"],
                name="customer_sessions_one_customer_per_user_mode_account",
            ),
            models.UniqueConstraint(
                fields=["customer_id"],
                condition=~Q(customer_id=""),
                name="customer_sessions_customer_id_maps_one_user",
            ),
        ]

    def __str__(self) -> str:
        return self.customer_id or f"(pending for user {self.user_id})"

    @property
    def is_pending(self) -> bool:
        return not self.customer_id

    @property
    def is_account(self) -> bool:
        """Whether ``customer_id`` is a customer-configured Account (``acct_…``)."""
        return self.customer_object == CustomerObject.ACCOUNT


class ReplacedStripeCustomer(models.Model):
    """A customer that a mapping used to point at: the audit of every mapping that ended.

    Kept when a customer is replaced, and when a mapping goes with its Django user: the row
    then outlives the user (``user`` becomes empty, ``user_pk`` stays), so the Stripe
    customers of deleted users can still be found (and, with ``DELETE_CUSTOMERS_WITH_USER``,
    ``stripe_deleted_at`` says when the app deleted them in Stripe).
    """

    class Reason(models.TextChoices):
        MISSING = "missing", _("Missing in Stripe")
        DELETED = "deleted", _("Deleted in Stripe")
        USER_DELETED = "user_deleted", _("Its user was deleted")
        MAPPING_DELETED = "mapping_deleted", _("The mapping was deleted")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replaced_stripe_customers",
        verbose_name=_("user"),
    )
    user_pk = models.CharField(
        _("user's primary key"),
        max_length=255,
        blank=True,
        default="",
        help_text=_("Kept when the user is deleted."),
    )
    mode = models.CharField(_("mode"), max_length=4, choices=Mode.choices)
    account = models.CharField(_("connected account"), max_length=255, blank=True, default="")
    customer_object = models.CharField(
        _("customer object"),
        max_length=8,
        choices=CustomerObject.choices,
        default=CustomerObject.CUSTOMER,
    )
    customer_id = models.CharField(_("customer id"), max_length=255)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    replaced_at = models.DateTimeField(_("replaced at"), auto_now_add=True, db_index=True)
    stripe_deleted_at = models.DateTimeField(
        _("deleted in Stripe at"),
        null=True,
        blank=True,
        help_text=_("When the app deleted the customer in Stripe (DELETE_CUSTOMERS_WITH_USER)."),
    )

    class Meta:
        verbose_name = _("replaced Stripe customer")
        verbose_name_plural = _("replaced Stripe customers")
        ordering = ["-replaced_at"]

    def __str__(self) -> str:
        return f"{self.customer_id} ({self.get_reason_display()})"


class ProcessedWebhookEvent(models.Model):
    """A Stripe event the webhook endpoint acted on, kept so a replay changes nothing."""

    event_id = models.CharField(_("event id"), max_length=255, unique=True)
    type = models.CharField(_("type"), max_length=255)
    livemode = models.BooleanField(_("live mode"))
    account = models.CharField(_("connected account"), max_length=255, blank=True, default="")
    processed_at = models.DateTimeField(_("processed at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("processed webhook event")
        verbose_name_plural = _("processed webhook events")
        ordering = ["-processed_at"]

    def __str__(self) -> str:
        return f"{self.event_id} ({self.type})"
