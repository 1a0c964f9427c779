"""``manage.py customer_sessions_verify``: check every mapping against Stripe.

Each mapped customer of the configured key's mode is retrieved (one request each, at a
limited rate): deleted in Stripe, missing, or existing only in the other mode is reported.
``--fix`` forgets those customers under the same rules as the app (a
``ReplacedStripeCustomer`` record, ``customer_replaced`` sent, at most
``REPLACEMENT_LIMIT`` per ``REPLACEMENT_WINDOW``), so each user's next session creates a
new customer. Without ``--fix`` nothing changes, and the exit status is 1 when a problem
was found (for cron and CI).

With ``DELETE_CUSTOMERS_WITH_USER`` on, the customers of deleted users that are still in
Stripe (their deletion failed, or they were made in the other mode) are reported too, and
``--fix`` deletes them.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from ...conf import SETTING_NAME, get_settings
from ...exceptions import (
    CustomerSessionError,
    StripeMisconfigured,
    StripeUnavailable,
    TooManyReplacements,
)
from ...lifecycle import delete_in_stripe
from ...maintenance import customer_status, fix_customer, verify_customer
from ...models import ReplacedStripeCustomer, StripeCustomer
from ...stripe_client import stripe_mode
from ...values import CustomerStatus
from ..progress import Pacer, Progress

PROBLEMS = (CustomerStatus.DELETED, CustomerStatus.MISSING, CustomerStatus.WRONG_MODE)


class Command(BaseCommand):
    help = (
        "Check mapped Stripe customers against Stripe (deleted, missing, other mode); "
        "--fix forgets them so users get new ones."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--fix",
            action="store_true",
            help="Forget customers Stripe no longer has (the app's replacement rules).",
        )
        parser.add_argument(
            "--rate",
            type=float,
            default=None,
            help=f"Stripe requests per second (default {SETTING_NAME}['BACKFILL_RATE']).",
        )
        parser.add_argument(
            "--account",
            default=None,
            help="Only this connected account (acct_…; '' for the platform). Default: all.",
        )
        parser.add_argument(
            "--batch-size", type=int, default=500, help="Mappings read per query (default 500)."
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=8,
            help="Customers asked about at the same time (default 8), within --rate.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        conf = get_settings()
        rate = options["rate"] if options["rate"] is not None else conf.BACKFILL_RATE
        if rate <= 0 or options["workers"] <= 0 or options["batch_size"] <= 0:
            raise CommandError("--rate, --workers and --batch-size must be positive.")
        try:
            mode = stripe_mode(conf.require_secret_key())
        except StripeMisconfigured as exc:
            raise CommandError(exc.detail) from exc
        rows = StripeCustomer.objects.exclude(customer_id="").select_related("user")
        if options["account"] is not None:
            rows = rows.filter(account=options["account"])
        other_mode = rows.exclude(mode=mode).count()
        rows = rows.filter(mode=mode).order_by("pk")
        total = rows.count()
        self.stdout.write(f"Checking {total} {mode} mode customer(s) against Stripe.")
        progress = Progress(self.stdout, total, noun="customers", every=options["batch_size"])
        pacer = Pacer(rate)
        counts: Counter[CustomerStatus] = Counter()
        fixed = 0
        last_pk = 0
        # Workers only ask Stripe (no database access); results are handled here, in order.
        pool = ThreadPoolExecutor(options["workers"], "verify")
        try:
            while chunk := list(rows.filter(pk__gt=last_pk)[: options["batch_size"]]):
                last_pk = chunk[-1].pk
                statuses = pool.map(lambda m: self.verify_one(m, pacer), chunk)
                fixed = self.report(chunk, statuses, counts, progress, fixed, options["fix"])
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        progress.finish()

        summary = ", ".join(
            f"{counts[s]} {s.value.replace('_', ' ')}" for s in (CustomerStatus.OK, *PROBLEMS)
        )
        self.stdout.write(f"Checked {total}: {summary}.")
        if other_mode:
            self.stdout.write(
                f"{other_mode} mapping(s) of the other mode were not checked (use that "
                "mode's key to check them)."
            )
        problems = sum(counts[s] for s in PROBLEMS)
        if conf.DELETE_CUSTOMERS_WITH_USER:
            problems += self.deleted_users(mode, options, pacer)
        if options["fix"]:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Forgot {fixed} customer(s); those users get a new one on their next session."
                )
            )
        elif problems:
            raise CommandError(
                f"{problems} mapping(s) point at customers Stripe does not have; run with --fix "
                "to forget them."
            )

    def report(
        self,
        chunk: list[StripeCustomer],
        statuses: Iterable[CustomerStatus],
        counts: Counter[CustomerStatus],
        progress: Progress,
        fixed: int,
        fix: bool,
    ) -> int:
        """Count, print and (with ``fix``) forget; returns the running count of forgotten."""
        for mapping, status in zip(chunk, statuses, strict=True):
            counts[status] += 1
            progress.step()
            if status not in PROBLEMS:
                continue
            if progress.tty:
                self.stdout.write("")
            self.stdout.write(
                f"{status.value}: {mapping.customer_id} of user {mapping.user_id} "
                f"({mapping.user}){f' on {mapping.account}' if mapping.account else ''}"
            )
            if fix:
                try:
                    fixed += fix_customer(mapping, status)
                except TooManyReplacements as exc:
                    progress.finish()
                    raise CommandError(
                        f"Stopped after forgetting {fixed}: {exc.detail} Raise "
                        f"{SETTING_NAME}['REPLACEMENT_LIMIT'] if these really are gone."
                    ) from exc
        return fixed

    def deleted_users(self, mode: str, options: dict[str, Any], pacer: Pacer) -> int:
        """Customers of deleted users still in Stripe: reported, deleted with ``--fix``.

        Returns how many are left in Stripe.
        """
        records = ReplacedStripeCustomer.objects.filter(
            reason=ReplacedStripeCustomer.Reason.USER_DELETED, stripe_deleted_at__isnull=True
        )
        if options["account"] is not None:
            records = records.filter(account=options["account"])
        other_mode = records.exclude(mode=mode).count()
        left = 0
        for record in records.filter(mode=mode).order_by("pk").iterator():
            pacer.wait()
            try:
                status = customer_status(
                    record.customer_id,
                    account=record.account,
                    user_pk=record.user_pk,
                    customer_object=record.customer_object,
                )
            except CustomerSessionError as exc:
                raise CommandError(f"Stripe refused: {exc.detail}") from exc
            if status is not CustomerStatus.OK:  # gone from Stripe already
                if options["fix"]:
                    records.filter(pk=record.pk).update(stripe_deleted_at=timezone.now())
                continue
            if options["fix"] and delete_in_stripe(record.pk):
                continue
            left += 1
            self.stdout.write(
                f"still in Stripe: {record.customer_id} of deleted user {record.user_pk}"
                f"{f' on {record.account}' if record.account else ''}"
            )
        if other_mode:
            self.stdout.write(
                f"{other_mode} customer(s) of deleted users were made in the other mode; "
                "run this with that mode's key to delete them."
            )
        if left:
            self.stdout.write(
                f"{left} customer(s) of deleted users are still in Stripe"
                f"{'' if options['fix'] else '; run with --fix to delete them'}."
            )
        return left

    def verify_one(self, mapping: StripeCustomer, pacer: Pacer, attempts: int = 5) -> Any:
        for attempt in range(attempts):
            pacer.wait()
            try:
                return verify_customer(mapping)
            except StripeUnavailable as exc:
                time.sleep(min(30.0, float(exc.retry_after or 1) * (2**attempt)))
            except CustomerSessionError as exc:
                raise CommandError(f"Stripe refused: {exc.detail}") from exc
        raise CommandError("Stripe kept failing; try again later.")
