"""``manage.py customer_sessions_backfill``, against the Stripe double: each user mapped once,
however it is run, stopped and run again."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from customer_sessions.exceptions import StripeUnavailable
from customer_sessions.models import StripeCustomer
from customer_sessions.services import get_or_create_customer

from .conftest import customer_creates
from .factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent


def make_users(n: int) -> list[Any]:
    """``n`` users without a password (hashing one costs more than everything else here)."""
    return UserFactory.create_batch(n, password=None)


class Terminal(io.StringIO):
    """What a command writes to, when that is a terminal."""

    def isatty(self) -> bool:
        return True


def run(name: str, *args: str, stdout: Any = None) -> str:
    out = stdout if stdout is not None else io.StringIO()
    call_command(name, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def backfill(*args: str, stdout: Any = None) -> str:
    """The command in this thread (worker threads could not see a test's uncommitted rows)."""
    if "--workers" not in args:
        args = ("--workers", "1", *args)
    return run("customer_sessions_backfill", *args, stdout=stdout)


def mapped_ids() -> list[str]:
    return list(
        StripeCustomer.objects.exclude(customer_id="").values_list("customer_id", flat=True)
    )


def assert_one_customer_each(fake, users) -> None:  # type: ignore[no-untyped-def]
    """Every user mapped, to a distinct customer, and Stripe holds no other customer."""
    rows = dict(StripeCustomer.objects.values_list("user_id", "customer_id"))
    assert sorted(rows) == sorted(u.pk for u in users)
    assert all(rows.values())
    assert sorted(rows.values()) == sorted(c["id"] for c in fake.customers)


@pytest.mark.django_db
def test_backfill_maps_every_active_user_once_and_a_second_run_does_nothing(fake_stripe):
    users = make_users(7)
    UserFactory(is_active=False)

    out = backfill("--rate", "1000", "--batch-size", "3")

    assert "7 user(s) without a Stripe customer" in out
    assert "Mapped 7 user(s) to a Stripe customer." in out
    assert_one_customer_each(fake_stripe, users)
    assert customer_creates(fake_stripe) == 7

    out = backfill("--rate", "1000")

    assert "0 user(s) without a Stripe customer" in out
    assert customer_creates(fake_stripe) == 7
    assert_one_customer_each(fake_stripe, users)


@pytest.mark.django_db
def test_backfill_skips_users_already_mapped_and_finishes_pending_claims(fake_stripe):
    done, pending, fresh = make_users(3)
    get_or_create_customer(done)
    # A claim left by an attempt whose response was lost: Stripe made the customer.
    fake_stripe.drop_next(path="/v1/customers", mid_response=True, times=3)
    with override_settings(
        CUSTOMER_SESSIONS={**settings.CUSTOMER_SESSIONS, "MAX_NETWORK_RETRIES": 0}
    ):
        with pytest.raises(StripeUnavailable):
            get_or_create_customer(pending)
    fake_stripe.clear_faults()
    assert StripeCustomer.objects.get(user=pending).customer_id == ""
    assert len(fake_stripe.customers) == 2

    backfill("--rate", "1000")

    assert_one_customer_each(fake_stripe, [done, pending, fresh])


@pytest.mark.django_db
def test_dry_run_calls_stripe_never_and_writes_nothing(fake_stripe):
    make_users(3)

    out = backfill("--dry-run")

    assert out.startswith("Dry run: 3 user(s) would get a Stripe customer.")
    assert fake_stripe.requests == []
    assert not StripeCustomer.objects.exists()


@pytest.mark.django_db
def test_filter_and_queryset_choose_the_users(fake_stripe):
    ada = UserFactory(username="ada", is_staff=True)
    bob = UserFactory(username="bob")

    backfill("--filter", "username=bob", "--rate", "1000")
    assert list(StripeCustomer.objects.values_list("user", flat=True)) == [bob.pk]

    backfill("--queryset", f"{__name__}.staff", "--rate", "1000")
    assert sorted(StripeCustomer.objects.values_list("user", flat=True)) == sorted([ada.pk, bob.pk])

    with pytest.raises(CommandError, match="--filter"):
        backfill("--filter", "no_such_field=1")
    with pytest.raises(CommandError, match="expected field=value"):
        backfill("--filter", "username")


def staff() -> Any:
    return get_user_model().objects.filter(is_staff=True)


@pytest.mark.django_db
def test_backfill_on_a_connected_account(fake_stripe):
    user = UserFactory()
    backfill("--account", "acct_1Shop", "--rate", "1000")
    row = StripeCustomer.objects.get(user=user)
    assert row.account == "acct_1Shop"
    assert fake_stripe.requests_to("POST", "/v1/customers")[0].stripe_account == "acct_1Shop"


@pytest.mark.django_db
def test_rate_limit_spaces_the_requests(fake_stripe):
    make_users(6)

    backfill("--rate", "10")

    times = [r.time for r in fake_stripe.requests_to("POST", "/v1/customers")]
    assert len(times) == 6
    # Six requests at 10/s take at least 0.5 s from first to last (loosely: 0.4).
    assert times[-1] - times[0] >= 0.4


@pytest.mark.django_db(transaction=True)
def test_workers_map_everyone_once(fake_stripe):
    users = make_users(24)
    fake_stripe.delay(0.02, path="/v1/customers", method="POST")

    out = backfill("--workers", "4", "--rate", "1000", "--batch-size", "10")

    assert "Mapped 24 user(s)" in out
    assert_one_customer_each(fake_stripe, users)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3",
    reason="SQLite has one write lock, held while Stripe creates a customer: creates cannot "
    "overlap there (they do on PostgreSQL, which CI also runs).",
)
def test_workers_overlap_stripe_requests(fake_stripe):
    users = make_users(12)
    fake_stripe.delay(0.1, path="/v1/customers", method="POST")

    backfill("--workers", "4", "--rate", "1000")

    assert_one_customer_each(fake_stripe, users)
    arrivals = sorted(r.time for r in fake_stripe.requests_to("POST", "/v1/customers"))
    # Stripe takes 0.1 s per customer here; one worker could never send two within 0.1 s.
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:], strict=False)]
    assert min(gaps) < 0.1


@pytest.mark.django_db(transaction=True)
def test_rate_limit_holds_across_workers(fake_stripe):
    make_users(40)

    backfill("--workers", "4", "--rate", "20")

    arrivals = sorted(r.time for r in fake_stripe.requests_to("POST", "/v1/customers"))
    assert len(arrivals) == 40
    # What Stripe counts: requests within any one second. At most 20, give or take the two
    # that a busy machine's jitter (a request held up ~0.1 s between the pacer and Stripe)
    # can squeeze in; four workers pacing themselves alone would send all 40 within 0.5 s.
    busiest = max(
        sum(1 for later in arrivals if start <= later < start + 1.0) for start in arrivals
    )
    assert busiest <= 22, busiest


@pytest.mark.django_db
def test_rate_comes_from_the_settings_by_default(fake_stripe):
    make_users(4)
    with override_settings(CUSTOMER_SESSIONS={**settings.CUSTOMER_SESSIONS, "BACKFILL_RATE": 5}):
        out = backfill()
    assert "creating at most 5/s" in out
    times = [r.time for r in fake_stripe.requests_to("POST", "/v1/customers")]
    assert times[-1] - times[0] >= 0.45  # 3 intervals of 0.2 s, loosely


@pytest.mark.django_db
def test_progress_is_a_bar_with_rate_and_eta_on_a_terminal(fake_stripe):
    make_users(3)

    out = backfill("--rate", "1000", stdout=Terminal())

    assert "\r[" in out
    last = out.rsplit("\r", 1)[1]
    assert last.startswith("[" + "#" * 30 + "] 3/3 users, ")
    assert "/s, ETA 0:00:00" in last


@pytest.mark.django_db
def test_progress_is_plain_lines_when_not_a_terminal(fake_stripe):
    make_users(5)

    out = backfill("--rate", "1000", "--batch-size", "2")

    assert "\r" not in out
    lines = [line for line in out.splitlines() if " users, " in line]
    assert [line.split(" ")[0] for line in lines] == ["2/5", "4/5", "5/5"]
    assert all("/s, ETA " in line for line in lines)


@pytest.mark.django_db
def test_backfill_without_a_key_says_what_to_set(settings):
    settings.CUSTOMER_SESSIONS = {}
    UserFactory()
    with pytest.raises(CommandError, match=r"CUSTOMER_SESSIONS\['SECRET_KEY'\]"):
        backfill()


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    auth = f"{db['USER']}:{db.get('PASSWORD') or ''}@" if db.get("USER") else ""
    return f"postgres://{auth}{db.get('HOST') or 'localhost'}{port}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["killed", "ctrl-c"])
def test_stopped_halfway_then_run_again_maps_everyone_once(fake_stripe, how):
    users = make_users(24)
    # Each customer takes Stripe 0.1 s, so the process is killed with requests in flight.
    fake_stripe.delay(0.1, path="/v1/customers", method="POST")
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "STRIPE_SECRET_KEY": fake_stripe.secret_key,
        "STRIPE_API_BASE": fake_stripe.url,
        "DJANGO_SETTINGS_MODULE": "project.settings",
    }
    env.pop("STRIPE_LOG", None)
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "customer_sessions_backfill", "--rate", "100"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        # Stopped once some users are mapped (committed, not only made at Stripe: on a
        # busy PostgreSQL the first commits can trail Stripe's answers by the whole batch).
        while len(mapped_ids()) < 3:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the backfill made no progress"
            time.sleep(0.02)
        process.send_signal(how)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    time.sleep(0.3)  # a request the process left in flight completes at Stripe
    fake_stripe.clear_faults()
    half = len(mapped_ids())
    assert 0 < half < len(users)
    if how == signal.SIGINT:
        assert process.returncode == 1
        assert b"Interrupted after mapping" in stderr
        assert b"Run the command again to go on" in stderr

    backfill("--rate", "1000")

    assert_one_customer_each(fake_stripe, users)
    assert len(mapped_ids()) == len(users)


@pytest.mark.django_db
def test_backfill_in_account_mode_makes_one_account_each(fake_stripe, settings):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "CUSTOMER_OBJECT": "account"}
    users = make_users(4)

    backfill("--rate", "1000")
    backfill("--rate", "1000")

    rows = dict(StripeCustomer.objects.values_list("user_id", "customer_id"))
    assert sorted(rows) == sorted(u.pk for u in users)
    assert sorted(rows.values()) == sorted(a["id"] for a in fake_stripe.accounts)
    assert set(StripeCustomer.objects.values_list("customer_object", flat=True)) == {"account"}
    assert customer_creates(fake_stripe) == 0
    assert len(fake_stripe.requests_to("POST", "/v2/core/accounts")) == 4
