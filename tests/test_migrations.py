"""Migrations keep what is on record: run forward from the previous state with real rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

APP = "customer_sessions"


def migrate(target: str) -> object:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([(APP, target)])
    return executor.loader.project_state([(APP, target)]).apps


def test_0003_keeps_each_records_user_primary_key_so_it_outlives_the_user(django_user_model):
    old = migrate("0002_processedwebhookevent")
    try:
        user_model = old.get_model(*django_user_model._meta.label.split("."))  # type: ignore[attr-defined]
        replaced = old.get_model(APP, "ReplacedStripeCustomer")  # type: ignore[attr-defined]
        user = user_model.objects.create(username="ada")
        replaced.objects.create(
            user_id=user.pk, mode="test", account="", customer_id="cus_Old", reason="deleted"
        )

        new = migrate("0003_audit_outlives_users")
        record = new.get_model(APP, "ReplacedStripeCustomer").objects.get()  # type: ignore[attr-defined]
        assert (record.customer_id, record.user_pk) == ("cus_Old", str(user.pk))
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes(APP))

    from customer_sessions.models import ReplacedStripeCustomer

    django_user_model.objects.filter(username="ada").delete()
    [kept] = ReplacedStripeCustomer.objects.all()
    assert (kept.user_id, kept.user_pk, kept.customer_id) == (None, str(user.pk), "cus_Old")
