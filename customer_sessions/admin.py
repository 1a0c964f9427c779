"""The mapping in the Django admin, read-only, with links to the Stripe dashboard.

There is no client secret anywhere here: the app never stores one.

Sites can show a user's customers on their own user admin page::

    from django.contrib.auth.admin import UserAdmin
    from customer_sessions.admin import StripeCustomerInline

    class MyUserAdmin(UserAdmin):
        inlines = [*UserAdmin.inlines, StripeCustomerInline]
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .exceptions import CustomerSessionError
from .maintenance import fix_customer, verify_customer
from .models import (
    CustomerObject,
    Mode,
    ProcessedWebhookEvent,
    ReplacedStripeCustomer,
    StripeCustomer,
)
from .values import CustomerStatus

DASHBOARD = "https://dashboard.stripe.com/"


def dashboard_url(
    customer_id: str, mode: str, account: str = "", customer_object: str = "customer"
) -> str:
    """The customer's page in the Stripe dashboard, in its mode and connected account: a
    Customer's under ``customers/``, a customer-configured Account's under
    ``connect/accounts/``, where the dashboard shows Accounts."""
    account_part = f"{account}/" if account else ""
    mode_part = "test/" if mode == Mode.TEST else ""
    page = "connect/accounts" if customer_object == CustomerObject.ACCOUNT else "customers"
    return f"{DASHBOARD}{account_part}{mode_part}{page}/{customer_id}"


def _customer_link(obj: StripeCustomer | ReplacedStripeCustomer) -> str:
    if not obj.customer_id:
        return str(_("(being created)"))
    return format_html(
        '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>',
        dashboard_url(obj.customer_id, obj.mode, obj.account, obj.customer_object),
        obj.customer_id,
    )


def _user_search_fields() -> list[str]:
    user_model: Any = get_user_model()
    names = {user_model.USERNAME_FIELD, getattr(user_model, "EMAIL_FIELD", None) or "email"}
    field_names = {f.name for f in user_model._meta.get_fields()}
    return [f"user__{name}" for name in sorted(names) if name in field_names]


class ReadOnlyMixin:
    """Rows are made by the app (or Stripe's events), never typed in by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(StripeCustomer)
class StripeCustomerAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["user", "customer", "customer_object", "mode", "account", "created"]
    list_filter = ["mode", "customer_object"]
    list_select_related = ["user"]
    date_hierarchy = "created"
    fields = readonly_fields = (
        "user",
        "customer",
        "customer_object",
        "mode",
        "account",
        "created",
        "updated",
    )
    actions = ["verify_against_stripe", "forget_customers_stripe_lost"]

    # No raw delete: a deleted mapping makes the user a second Stripe customer. Forgetting
    # goes through the audited action (a ReplacedStripeCustomer row, customer_replaced).
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_forget_permission(self, request: HttpRequest) -> bool:
        """Forgetting is as strong as deleting: for those with the model's delete permission."""
        opts = self.opts
        return bool(request.user.has_perm(f"{opts.app_label}.delete_{opts.model_name}"))

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        return ["=customer_id", *_user_search_fields()]

    @admin.display(description=_("customer id"), ordering="customer_id")
    def customer(self, obj: StripeCustomer) -> str:
        return _customer_link(obj)

    def _verify(self, request: HttpRequest, queryset: QuerySet[StripeCustomer], fix: bool) -> None:
        found: dict[CustomerStatus, list[str]] = defaultdict(list)
        forgotten = 0
        try:
            for mapping in queryset.select_related("user"):
                status = verify_customer(mapping)
                found[status].append(f"{mapping.customer_id or '-'} ({mapping.user})")
                if fix and fix_customer(mapping, status):
                    forgotten += 1
        except CustomerSessionError as exc:
            self.message_user(
                request, _("Stripe could not be asked: %s") % exc.detail, messages.ERROR
            )
        if found[CustomerStatus.OK]:
            self.message_user(
                request,
                _("%d customer(s) exist in Stripe.") % len(found[CustomerStatus.OK]),
                messages.SUCCESS,
            )
        labels = {
            CustomerStatus.DELETED: _("Deleted in Stripe"),
            CustomerStatus.MISSING: _("Missing in Stripe"),
            CustomerStatus.WRONG_MODE: _("Only in the other mode"),
            CustomerStatus.OTHER_MODE: _("Not checked (made with the other mode's key)"),
            CustomerStatus.PENDING: _("Not checked (still being created)"),
        }
        for status, label in labels.items():
            if found[status]:
                level = messages.INFO if status in _NOT_CHECKED else messages.WARNING
                self.message_user(request, f"{label}: {', '.join(found[status])}", level)
        if fix:
            self.message_user(
                request,
                _("%d mapping(s) forgotten; those users get a new customer next time.") % forgotten,
                messages.SUCCESS if forgotten else messages.INFO,
            )

    @admin.action(description=_("Verify selected customers against Stripe"), permissions=["view"])
    def verify_against_stripe(
        self, request: HttpRequest, queryset: QuerySet[StripeCustomer]
    ) -> None:
        self._verify(request, queryset, fix=False)

    @admin.action(
        description=_("Verify, and forget customers Stripe no longer has"), permissions=["forget"]
    )
    def forget_customers_stripe_lost(
        self, request: HttpRequest, queryset: QuerySet[StripeCustomer]
    ) -> None:
        self._verify(request, queryset, fix=True)


_NOT_CHECKED = {CustomerStatus.OTHER_MODE, CustomerStatus.PENDING}


class StripeCustomerInline(ReadOnlyMixin, admin.TabularInline):
    """The user's Stripe customers, for a site's own user admin (see the module docstring)."""

    model = StripeCustomer
    fk_name = "user"
    extra = 0
    can_delete = False
    fields = readonly_fields = ("customer", "mode", "account", "created")
    verbose_name_plural = _("Stripe customers")

    @admin.display(description=_("customer id"))
    def customer(self, obj: StripeCustomer) -> str:
        return _customer_link(obj)


@admin.register(ReplacedStripeCustomer)
class ReplacedStripeCustomerAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "user_or_pk",
        "customer",
        "customer_object",
        "reason",
        "mode",
        "account",
        "replaced_at",
    ]
    list_filter = ["reason", "mode", "customer_object"]
    list_select_related = ["user"]
    date_hierarchy = "replaced_at"
    fields = readonly_fields = (
        "user",
        "user_pk",
        "customer",
        "reason",
        "mode",
        "account",
        "replaced_at",
        "stripe_deleted_at",
    )

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        return ["=customer_id", "=user_pk", *_user_search_fields()]

    @admin.display(description=_("user"), ordering="user_pk")
    def user_or_pk(self, obj: ReplacedStripeCustomer) -> str:
        if obj.user is not None:
            return str(obj.user)
        return str(_("deleted user %(pk)s") % {"pk": obj.user_pk})

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("customer id"), ordering="customer_id")
    def customer(self, obj: ReplacedStripeCustomer) -> str:
        return _customer_link(obj)


@admin.register(ProcessedWebhookEvent)
class ProcessedWebhookEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["event_id", "type", "livemode", "account", "processed_at"]
    list_filter = ["type", "livemode"]
    search_fields = ["=event_id"]
    date_hierarchy = "processed_at"
