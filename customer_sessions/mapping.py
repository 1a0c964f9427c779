"""The user → Stripe customer mapping: lookup, creation exactly once, and replacement."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from asgiref.sync import sync_to_async
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connections, models, router, transaction
from django.utils import timezone

from . import signals
from .conf import SETTING_NAME, get_settings
from .exceptions import CustomerConflict, StripeInvalidRequest, TooManyReplacements
from .models import (
    CustomerObject,
    Mode,
    ReplacedStripeCustomer,
    StripeCustomer,
    first_idempotency_key,
    next_idempotency_key,
)
from .stripe_client import calls, get_client, stripe_mode

logger = logging.getLogger(__name__)


def check_user(user: AbstractBaseUser | Any) -> None:
    """Only signed-in, active users have a Stripe customer (``PermissionDenied`` otherwise)."""
    if user is None or not user.is_authenticated or not getattr(user, "is_active", True):
        raise PermissionDenied("Only signed-in, active users have a Stripe customer.")


def current_mode() -> Mode:
    """The mode (test or live) of the configured key."""
    return stripe_mode(get_settings().require_secret_key())


def configured_object() -> CustomerObject:
    """What a user's first session makes them: ``CUSTOMER_OBJECT``."""
    return CustomerObject(get_settings().CUSTOMER_OBJECT)


@dataclass(frozen=True, slots=True)
class MappedCustomer:
    """A user's confirmed customer: its id and what it is (a Customer or an Account)."""

    id: str
    object: CustomerObject

    @property
    def is_account(self) -> bool:
        """Whether ``id`` is a customer-configured Account, sent as ``customer_account``."""
        return self.object == CustomerObject.ACCOUNT


# --- lookup ---------------------------------------------------------------------------


def mapped_customer(user: AbstractBaseUser, mode: Mode, account: str) -> MappedCustomer | None:
    """The confirmed customer of ``user`` in ``mode`` and ``account``, or None: one query.

    A user keeps the object they are mapped to whatever ``CUSTOMER_OBJECT`` says now
    (see docs/settings.md): the row says which kind it is.
    """
    alias = router.db_for_read(StripeCustomer)
    connection = connections[alias]
    user_field = cast("models.ForeignKey[Any, Any]", StripeCustomer._meta.get_field("user"))
    user_id = user_field.get_db_prep_value(user.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(_lookup_sql(alias), [user_id, mode, account])
        found = cursor.fetchone()
    if found is None or not found[0]:
        return None
    return MappedCustomer(found[0], CustomerObject(found[1]))


_LOOKUPS: dict[str, str] = {}


def _lookup_sql(alias: str) -> str:
    """The lookup's SQL for the database ``alias``, written once per process.

    Every session runs this one query, and the ORM builds its SQL anew each time (filter,
    values_list, compile). Measured side by side (``make bench BENCH=--only=app-vs-bare-0ms
    --rounds=9``), the endpoint served 0.82 of the bare view's sessions at 0 ms with the
    ORM's query and 0.93 with this one. So the statement is written once, from the model's
    documented ``_meta`` API and the database's own quoting, and run with a plain cursor
    (database routers and query wrappers still apply); the unique constraint on (user,
    mode, account) makes it one row at most.
    """
    sql = _LOOKUPS.get(alias)
    if sql is None:
        quote = connections[alias].ops.quote_name
        fields = {f.name: f for f in StripeCustomer._meta.concrete_fields}
        column = {name: quote(str(fields[name].column)) for name in fields}
        # Identifiers from the model and the database's own quoting; values are parameters.
        sql = _LOOKUPS[alias] = (
            f"SELECT {column['customer_id']}, {column['customer_object']} "  # noqa: S608
            f"FROM {quote(StripeCustomer._meta.db_table)} "
            f"WHERE {column['user']} = %s AND {column['mode']} = %s AND {column['account']} = %s"
        )
    return sql


def mapped_customer_id(user: AbstractBaseUser, mode: Mode, account: str) -> str:
    """The id of :func:`mapped_customer`, or ``""``."""
    found = mapped_customer(user, mode, account)
    return found.id if found is not None else ""


#: :func:`mapped_customer` and :func:`mapped_customer_id` for async code, in the request's
#: database thread, as Django's async ORM runs a query.
amapped_customer = sync_to_async(mapped_customer)
amapped_customer_id = sync_to_async(mapped_customer_id)


# --- creation, exactly once -----------------------------------------------------------


def create_customer(user: AbstractBaseUser, mode: Mode, account: str) -> str:
    """The id of :func:`create_mapped_customer`."""
    return create_mapped_customer(user, mode, account).id


def create_mapped_customer(user: AbstractBaseUser, mode: Mode, account: str) -> MappedCustomer:
    """Create and map the user's customer, exactly once however many requests race here.

    1. A pending claim row holds the customer's idempotency key, derived from the user, so
       every attempt (after a failure, a lost answer, or the site's transaction rolling
       the claim back) sends Stripe the same key.
    2. Inside a transaction, the claim row is locked by writing to it first (a row lock on
       PostgreSQL and MySQL, the database write lock on SQLite, where SELECT ... FOR UPDATE
       does nothing). Whoever gets the lock second finds the customer already mapped.
    3. The lock holder creates the customer with the claim's key and maps it: a Customer,
       or with ``CUSTOMER_OBJECT`` ``"account"`` a customer-configured Account.
    The database decides; the idempotency key protects against a lost response.
    """
    wanted = configured_object()
    claim, _ = StripeCustomer.objects.get_or_create(
        user_id=user.pk,
        mode=mode,
        account=account,
        defaults={
            "idempotency_key": first_idempotency_key(user, mode, account, wanted),
            "customer_object": wanted,
        },
    )
    client = get_client(account)
    with transaction.atomic():
        locked = StripeCustomer.objects.filter(pk=claim.pk).update(updated=timezone.now())
        row = StripeCustomer.objects.get(pk=claim.pk) if locked else None
        if row is None:  # deleted under us (the user was deleted): start over
            return create_mapped_customer(user, mode, account)
        if row.customer_id:
            return MappedCustomer(row.customer_id, CustomerObject(row.customer_object))
        if row.customer_object != wanted:
            # A claim left pending from before CUSTOMER_OBJECT changed: the new kind, and a
            # key of its own (the old one may have been sent to the other endpoint).
            row.customer_object = wanted
            row.idempotency_key = next_idempotency_key(row.idempotency_key)
            row.save(update_fields=["customer_object", "idempotency_key", "updated"])
        create = calls.create_account if row.is_account else calls.create_customer
        conf = get_settings()
        params = (conf.account_params_func() if row.is_account else conf.customer_params_func())(
            user
        )
        customer_id = create(client, user.pk, params, row.idempotency_key)
        if customer_id is None:
            # The parameters changed since an earlier attempt with this key (the user
            # edited their email, say): that attempt's customer, if Stripe made one, is
            # lost to us. Go on with the key that follows it.
            logger.warning(
                "Customer parameters for user %s changed since an earlier attempt; "
                "a customer from that attempt may be left without a user.",
                user.pk,
            )
            row.idempotency_key = next_idempotency_key(row.idempotency_key)
            row.save(update_fields=["idempotency_key", "updated"])
            customer_id = create(client, user.pk, params, row.idempotency_key)
            if customer_id is None:
                raise StripeInvalidRequest()
        row.customer_id = customer_id
        try:
            with transaction.atomic():
                row.save(update_fields=["customer_id", "updated"])
            conflict = False
        except IntegrityError:
            # Stripe answered with a customer another user is mapped to. Never hand it
            # out; give this claim the next key so the next attempt makes a fresh customer.
            conflict = True
            row.customer_id = ""
            row.idempotency_key = next_idempotency_key(row.idempotency_key)
            row.save(update_fields=["customer_id", "idempotency_key", "updated"])
    if conflict:
        logger.error(
            "Stripe returned customer %s for user %s, but it is mapped to another user; refused.",
            customer_id,
            user.pk,
        )
        raise CustomerConflict()
    logger.info(
        "Created Stripe %s %s for user %s (%s).", row.customer_object, customer_id, user.pk, mode
    )
    signals.customer_created.send(
        sender=StripeCustomer, user=user, customer_id=customer_id, mode=mode, account=account
    )
    return MappedCustomer(customer_id, CustomerObject(row.customer_object))


async def acreate_customer(user: AbstractBaseUser, mode: Mode, account: str) -> str:
    """The id of :func:`acreate_mapped_customer`."""
    return (await acreate_mapped_customer(user, mode, account)).id


async def acreate_mapped_customer(
    user: AbstractBaseUser, mode: Mode, account: str
) -> MappedCustomer:
    """:func:`create_mapped_customer` for async code, in a thread of its own.

    It holds a row lock while Stripe answers, which Django's async ORM cannot do inside a
    transaction: a thread of its own (``thread_sensitive=False``) never stalls the other
    requests' database work.
    """
    return await sync_to_async(_create_customer_in_a_thread, thread_sensitive=False)(
        user, mode, account
    )


def _create_customer_in_a_thread(
    user: AbstractBaseUser, mode: Mode, account: str
) -> MappedCustomer:
    try:
        return create_mapped_customer(user, mode, account)
    finally:
        # No request starts or ends in this thread to close its database connection
        # (whatever CONN_MAX_AGE says): close it here, so no thread keeps one unwatched.
        connections.close_all()


def get_or_create_customer(user: AbstractBaseUser, *, account: str = "") -> str:
    """The Stripe customer id of ``user`` in the configured mode, created on first use."""
    check_user(user)
    mode = current_mode()
    return mapped_customer_id(user, mode, account) or create_customer(user, mode, account)


async def aget_or_create_customer(user: AbstractBaseUser, *, account: str = "") -> str:
    """:func:`get_or_create_customer` for async code (ASGI views, async tasks)."""
    check_user(user)
    mode = current_mode()
    return await amapped_customer_id(user, mode, account) or await acreate_customer(
        user, mode, account
    )


# --- replacement ----------------------------------------------------------------------


def replace_customer(
    user: AbstractBaseUser,
    mode: Mode,
    account: str,
    old_customer_id: str,
    reason: ReplacedStripeCustomer.Reason,
) -> bool:
    """Forget a customer Stripe no longer has, keeping a record, so a new one is made.

    Deletions Stripe confirmed (``deleted: true`` on retrieve, a signed ``customer.deleted``
    event) are always replaced. Unconfirmed disappearances (reason ``missing``, forgotten
    by hand through the admin or ``customer_sessions_verify --fix``) are limited to
    ``REPLACEMENT_LIMIT`` per mode and account within ``REPLACEMENT_WINDOW``: many at once
    almost always mean the key was pointed at another account.
    Returns whether this call forgot it (``False`` when the mapping had moved on already).
    """
    conf = get_settings()
    limited = reason == ReplacedStripeCustomer.Reason.MISSING
    since = timezone.now() - timedelta(seconds=conf.REPLACEMENT_WINDOW)
    recent = replaced = 0
    using = router.db_for_write(ReplacedStripeCustomer)
    with transaction.atomic(using=using):
        # Count and replace under one lock, so simultaneous replacements cannot overshoot
        # the limit: SQLite's IMMEDIATE transaction already holds the database's write
        # lock; PostgreSQL takes a table lock that only replacements contend for.
        connection = connections[using]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                table = connection.ops.quote_name(ReplacedStripeCustomer._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        if limited:
            recent = ReplacedStripeCustomer.objects.filter(
                mode=mode,
                account=account,
                reason=ReplacedStripeCustomer.Reason.MISSING,
                replaced_at__gte=since,
            ).count()
        if not limited or recent < conf.REPLACEMENT_LIMIT:
            row = (
                StripeCustomer.objects.select_for_update()
                .filter(user_id=user.pk, mode=mode, account=account, customer_id=old_customer_id)
                .first()
            )
            if row is not None:
                # The next key follows from this one: a replacement rolled back with the
                # site's transaction is retried with the key Stripe already saw.
                row.customer_id = ""
                row.idempotency_key = next_idempotency_key(row.idempotency_key)
                row.save(update_fields=["customer_id", "idempotency_key", "updated"])
                ReplacedStripeCustomer.objects.create(
                    user_id=user.pk,
                    user_pk=str(user.pk),
                    mode=mode,
                    account=account,
                    customer_object=row.customer_object,
                    customer_id=old_customer_id,
                    reason=reason,
                )
                replaced = 1
    if limited and recent >= conf.REPLACEMENT_LIMIT:
        logger.error(
            "Customer %s of user %s is to be forgotten as missing, but %s customers were "
            "already forgotten as missing in the last %s s; not forgetting. Are %s['SECRET_KEY'] "
            "and the account the ones these customers were made with?",
            old_customer_id,
            user.pk,
            recent,
            conf.REPLACEMENT_WINDOW,
            SETTING_NAME,
        )
        raise TooManyReplacements(
            f"More than {conf.REPLACEMENT_LIMIT} mapped customers went missing in Stripe within "
            f"{conf.REPLACEMENT_WINDOW} s; check {SETTING_NAME}['SECRET_KEY'] and the account."
        )
    if replaced:
        logger.warning(
            "Stripe customer %s of user %s is %s; it will be replaced.",
            old_customer_id,
            user.pk,
            reason,
        )
        signals.customer_replaced.send(
            sender=StripeCustomer,
            user=user,
            old_customer_id=old_customer_id,
            mode=mode,
            account=account,
            reason=reason,
        )
    return bool(replaced)


#: :func:`replace_customer` for async code (it needs a transaction: Django's thread).
areplace_customer = sync_to_async(replace_customer)
