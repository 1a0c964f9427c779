"""The dj-stripe site's database: migrated, with the benchmark's users, signed-in sessions
and customers (the ones the Stripe double knows), so that the view measures the steady state
``Customer.get_or_create`` finds a customer in. Run by ``bench.run`` in ``.venv-bench-djstripe/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys


def main() -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from djstripe.models import Customer

    call_command("migrate", verbosity=0)
    with contextlib.closing(sqlite3.connect(os.environ["BENCH_DB"])) as conn:
        conn.execute("ATTACH DATABASE ? AS src", (os.environ["BENCH_SOURCE_DB"],))
        for table in ("auth_user", "django_session"):
            conn.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
            conn.execute(f"INSERT INTO {table} SELECT * FROM src.{table}")  # noqa: S608
        conn.commit()
    with open(os.environ["BENCH_CUSTOMERS"]) as file:
        customers = json.load(file)
    Customer.objects.bulk_create(
        [Customer(id=c["customer"], subscriber_id=c["user"], livemode=False) for c in customers]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
