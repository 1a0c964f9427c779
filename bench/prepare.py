"""Set up the benchmark's database: users, their Stripe customers, signed-in sessions.

``python -m bench.prepare --users N --credentials FILE`` (with ``DJANGO_SETTINGS_MODULE=
bench.settings``, ``BENCH_DB`` and the Stripe double's ``STRIPE_API_BASE``/``STRIPE_SECRET_KEY``
in the environment) migrates a fresh database, makes N users, maps each to a customer
through this app's own ``get_or_create_customer`` (so the double knows them), and writes
each user's session and CSRF cookies to FILE for the load generator. Prints the first
user's customer id (the bare view's fixed customer).
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.prepare")
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--credentials", required=True)
    args = parser.parse_args(argv)

    import django

    django.setup()
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.utils.crypto import get_random_string

    from customer_sessions.services import get_or_create_customer

    call_command("migrate", verbosity=0)
    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        [user_model(username=f"bench{i}", email=f"bench{i}@example.com") for i in range(args.users)]
    )
    credentials = []
    first_customer = ""
    for user in user_model.objects.filter(pk__in=[u.pk for u in users]).order_by("pk"):
        customer = get_or_create_customer(user)
        first_customer = first_customer or customer
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        credentials.append({"sessionid": session.session_key, "csrftoken": get_random_string(32)})
    with open(args.credentials, "w") as file:
        json.dump(credentials, file)
    print(first_customer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
