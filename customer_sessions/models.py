"""The user → Stripe customer mapping.

One row per (user, Stripe mode, connected account). A row is created as a *pending claim*
(``customer_id == ""``) holding a random idempotency key, committed before Stripe is
called, so that a retry after a failed or timed-out attempt reuses the same key and Stripe
replays the customer it may already have made. The row gets its ``customer_id`` only once
Stripe has confirmed the customer: a mapping never points at an unconfirmed customer.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def new_idempotency_key() -> str:
    """A fresh key for one customer-create claim; random, so never reused across users."""
    return f"customer-sessions-{uuid.uuid4().hex}"


class Mode(models.TextChoices):
    TEST = "test", _("Test")
    LIVE = "live", _("Live")


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


class ReplacedStripeCustomer(models.Model):
    """A customer that a mapping used to point at, kept when it was replaced."""

    class Reason(models.TextChoices):
        MISSING = "missing", _("Missing in Stripe")
        DELETED = "deleted", _("Deleted in Stripe")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="replaced_stripe_customers",
        verbose_name=_("user"),
    )
    mode = models.CharField(_("mode"), max_length=4, choices=Mode.choices)
    account = models.CharField(_("connected account"), max_length=255, blank=True, default="")
    customer_id = models.CharField(_("customer id"), max_length=255)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    replaced_at = models.DateTimeField(_("replaced at"), auto_now_add=True, db_index=True)

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
