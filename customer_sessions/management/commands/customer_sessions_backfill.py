"""``manage.py customer_sessions_backfill``: a Stripe customer for every existing user.

Users are taken in batches, in primary-key order, among active users that have no
customer yet in the configured key's mode (and ``--account``). Each one goes through the
same claim-and-lock path as a page view (:func:`mapping.get_or_create_customer`), so
running it twice, running it while the site serves requests, or killing it halfway and
starting it again never makes a second customer for anyone.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from django import db
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldError, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.module_loading import import_string

from ...conf import SETTING_NAME, get_settings
from ...exceptions import CustomerSessionError, StripeMisconfigured, StripeUnavailable
from ...mapping import get_or_create_customer
from ...models import StripeCustomer
from ...stripe_client import stripe_mode
from ..progress import Pacer, Progress

_BOOLEANS = {"true": True, "false": False, "none": None}


def parse_filter(text: str) -> tuple[str, Any]:
    """``"is_staff=false"`` → ``("is_staff", False)``; True/False/None are understood."""
    field, sep, value = text.partition("=")
    if not sep or not field:
        raise CommandError(f"--filter {text!r}: expected field=value, like is_active=true.")
    return field.strip(), _BOOLEANS.get(value.strip().lower(), value)


class Command(BaseCommand):
    help = (
        "Create a Stripe customer for every active user that has none yet, in batches, at a "
        "limited request rate. Safe to interrupt and run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rate",
            type=float,
            default=None,
            help=f"Stripe requests per second (default {SETTING_NAME}['BACKFILL_RATE']).",
        )
        parser.add_argument(
            "--batch-size", type=int, default=500, help="Users read per query (default 500)."
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=8,
            help="Users mapped at the same time (default 8); Stripe answers a create in a "
            "few hundred ms, so one worker alone stays far below --rate.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only count (and list) the users that would get a customer.",
        )
        parser.add_argument(
            "--filter",
            action="append",
            default=[],
            metavar="FIELD=VALUE",
            help="Only users matching this queryset lookup, e.g. date_joined__year=2024 "
            "(repeatable).",
        )
        parser.add_argument(
            "--queryset",
            metavar="DOTTED.PATH",
            help="A function returning the queryset of users to consider (or a QuerySet).",
        )
        parser.add_argument(
            "--account",
            default="",
            help="Create the customers on this connected account (acct_…); default the platform.",
        )

    def users(self, options: dict[str, Any]) -> QuerySet[Any]:
        user_model = get_user_model()
        users: QuerySet[Any]
        if options["queryset"]:
            try:
                source = import_string(options["queryset"])
            except ImportError as exc:
                raise CommandError(f"--queryset: {exc}") from exc
            users = source() if callable(source) else source
            if not isinstance(users, QuerySet) or users.model is not user_model:
                raise CommandError("--queryset must give a QuerySet of the user model.")
        else:
            users = user_model._default_manager.all()
        if any(f.name == "is_active" for f in user_model._meta.get_fields()):
            users = users.filter(is_active=True)
        try:
            lookups = dict(parse_filter(text) for text in options["filter"])
            users = users.filter(**lookups)
        except (FieldError, ValidationError, ValueError) as exc:
            raise CommandError(f"--filter: {exc}") from exc
        mode = stripe_mode(get_settings().require_secret_key())
        mapped = StripeCustomer.objects.filter(
            user=OuterRef("pk"), mode=mode, account=options["account"]
        ).exclude(customer_id="")
        return users.filter(~Exists(mapped)).order_by("pk")

    def handle(self, *args: Any, **options: Any) -> None:
        conf = get_settings()
        rate = options["rate"] if options["rate"] is not None else conf.BACKFILL_RATE
        if rate <= 0:
            raise CommandError("--rate must be positive.")
        if options["batch_size"] <= 0 or options["workers"] <= 0:
            raise CommandError("--batch-size and --workers must be positive.")
        try:
            users = self.users(options)
            total = users.count()
        except StripeMisconfigured as exc:
            raise CommandError(exc.detail) from exc
        account = options["account"]
        where = f" on {account}" if account else ""

        if options["dry_run"]:
            self.stdout.write(f"Dry run: {total} user(s) would get a Stripe customer{where}.")
            for user in users[:20]:
                self.stdout.write(f"  user {user.pk} ({user})")
            if total > 20:
                self.stdout.write(f"  … and {total - 20} more")
            return

        self.stdout.write(
            f"{total} user(s) without a Stripe customer{where}; creating at most {rate:g}/s."
        )
        progress = Progress(self.stdout, total, noun="users", every=options["batch_size"])
        pacer = Pacer(rate)
        workers = options["workers"]
        pool = ThreadPoolExecutor(workers, "backfill") if workers > 1 else None
        mapped = failed = 0
        last_pk: Any = None
        try:
            while True:
                batch = users if last_pk is None else users.filter(pk__gt=last_pk)
                chunk = list(batch[: options["batch_size"]])
                if not chunk:
                    break
                last_pk = chunk[-1].pk
                if pool is None:
                    results: Iterable[bool] = (self.map_one(u, account, pacer) for u in chunk)
                else:
                    futures = [pool.submit(self.map_in_thread, u, account, pacer) for u in chunk]
                    results = (future.result() for future in as_completed(futures))
                for ok in results:
                    mapped += ok
                    failed += not ok
                    progress.step()
        except KeyboardInterrupt:
            progress.finish()
            raise CommandError(
                f"Interrupted after mapping {mapped} user(s). Run the command again to go on; "
                "nobody gets a second customer."
            ) from None
        finally:
            if pool is not None:
                # Users being mapped right now are finished; queued ones are not started.
                pool.shutdown(wait=True, cancel_futures=True)
        progress.finish()
        self.stdout.write(
            self.style.SUCCESS(f"Mapped {mapped} user(s) to a Stripe customer{where}.")
            if not failed
            else self.style.WARNING(
                f"Mapped {mapped} user(s){where}; {failed} failed (see the log). "
                "Run the command again to retry them."
            )
        )

    def map_in_thread(self, user: Any, account: str, pacer: Pacer) -> bool:
        try:
            return self.map_one(user, account, pacer)
        finally:
            db.connection.close()  # this thread's own connection

    def map_one(self, user: Any, account: str, pacer: Pacer, attempts: int = 5) -> bool:
        for attempt in range(attempts):
            pacer.wait()
            try:
                get_or_create_customer(user, account=account)
                return True
            except StripeMisconfigured as exc:
                raise CommandError(exc.detail) from exc
            except StripeUnavailable as exc:  # rate limited or down: back off, same user
                time.sleep(min(30.0, float(exc.retry_after or 1) * (2**attempt)))
            except CustomerSessionError as exc:
                self.stderr.write(f"user {user.pk}: {exc.code}")
                return False
        self.stderr.write(f"user {user.pk}: Stripe kept failing; skipped")
        return False
