"""The mapping in the real Django admin, through the test client, against the Stripe double."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.test import Client, override_settings
from django.urls import path

from customer_sessions.admin import StripeCustomerInline, dashboard_url
from customer_sessions.models import ReplacedStripeCustomer, StripeCustomer
from customer_sessions.services import create_customer_session, get_or_create_customer

from .factories import StripeCustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/customer_sessions/stripecustomer/"


@pytest.fixture
def admin_client_(db) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    return client


def messages_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in response.context["messages"]]


def test_dashboard_links_follow_stripes_mode_and_account_paths():
    assert dashboard_url("cus_A", "test") == "https://dashboard.stripe.com/test/customers/cus_A"
    assert dashboard_url("cus_A", "live") == "https://dashboard.stripe.com/customers/cus_A"
    assert (
        dashboard_url("cus_A", "test", "acct_1X")
        == "https://dashboard.stripe.com/acct_1X/test/customers/cus_A"
    )
    assert (
        dashboard_url("cus_A", "live", "acct_1X")
        == "https://dashboard.stripe.com/acct_1X/customers/cus_A"
    )


def test_changelist_shows_user_linked_customer_mode_and_created(admin_client_):
    test_row = StripeCustomerFactory(user__username="ada", customer_id="cus_Test1")
    StripeCustomerFactory(user__username="bob", customer_id="cus_Live1", mode="live")
    StripeCustomerFactory(user__username="cy", customer_id="cus_Conn1", account="acct_1Shop")

    response = admin_client_.get(CHANGELIST)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="https://dashboard.stripe.com/test/customers/cus_Test1"' in html
    assert 'href="https://dashboard.stripe.com/customers/cus_Live1"' in html
    assert 'href="https://dashboard.stripe.com/acct_1Shop/test/customers/cus_Conn1"' in html
    for text in ("ada", "bob", "cy", "Test", "Live", "acct_1Shop"):
        assert text in html
    assert test_row in response.context["cl"].result_list
    assert len(response.context["cl"].result_list) == 3
    assert 'value="verify_against_stripe"' in html  # the action is offered
    # The add button is not offered: mappings are made by the app only.
    assert f'href="{CHANGELIST}add/"' not in html


@pytest.mark.parametrize("query", ["ada@example.com", "ADA@EXAMPLE", "cus_Wanted"])
def test_search_by_user_email_and_customer_id(admin_client_, query):
    wanted = StripeCustomerFactory(
        user=UserFactory(username="ada", email="ada@example.com"), customer_id="cus_Wanted"
    )
    StripeCustomerFactory(user=UserFactory(username="bob", email="bob@example.com"))

    response = admin_client_.get(CHANGELIST, {"q": query})

    assert list(response.context["cl"].result_list) == [wanted]


def test_change_page_shows_the_customer_id_read_only_and_never_a_secret(admin_client_, fake_stripe):
    user = UserFactory()
    session = create_customer_session(user)
    row = StripeCustomer.objects.get(user=user)
    url = f"{CHANGELIST}{row.pk}/change/"

    response = admin_client_.get(url)

    assert response.status_code == 200
    html = response.content.decode()
    assert row.customer_id in html
    assert 'name="customer_id"' not in html  # not an input
    assert session.client_secret not in html
    assert "secret" not in html.lower().replace("csrfmiddlewaretoken", "")
    # A POST cannot change the mapping either.
    admin_client_.post(url, {"customer_id": "cus_Other", "user": row.user_id})
    row.refresh_from_db()
    assert row.customer_id == session.customer


def verify(client: Client, action: str, *rows: StripeCustomer):  # type: ignore[no-untyped-def]
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [r.pk for r in rows], "index": 0},
        follow=True,
    )


def test_verify_action_reports_ok_deleted_and_missing(admin_client_, fake_stripe):
    ok, deleted = UserFactory(username="ok"), UserFactory(username="gone")
    ok_row = StripeCustomer.objects.get(customer_id=get_or_create_customer(ok))
    deleted_row = StripeCustomer.objects.get(customer_id=get_or_create_customer(deleted))
    fake_stripe.delete_customer(deleted_row.customer_id)
    missing_row = StripeCustomerFactory(user__username="never", customer_id="cus_NotInStripe")
    before = len(fake_stripe.requests)

    response = verify(admin_client_, "verify_against_stripe", ok_row, deleted_row, missing_row)

    assert response.status_code == 200
    assert sorted(messages_of(response)) == sorted(
        [
            "1 customer(s) exist in Stripe.",
            f"Deleted in Stripe: {deleted_row.customer_id} (gone)",
            "Missing in Stripe: cus_NotInStripe (never)",
        ]
    )
    retrieves = fake_stripe.requests[before:]
    assert sorted(r.path for r in retrieves) == sorted(
        f"/v1/customers/{r.customer_id}" for r in (ok_row, deleted_row, missing_row)
    )
    assert all(r.method == "GET" for r in retrieves)
    # Verifying changes nothing.
    assert StripeCustomer.objects.exclude(customer_id="").count() == 3


def test_verify_and_forget_action_applies_the_replacement_rules(admin_client_, fake_stripe):
    user = UserFactory(username="gone")
    row = StripeCustomer.objects.get(customer_id=get_or_create_customer(user))
    fake_stripe.delete_customer(row.customer_id)

    response = verify(admin_client_, "forget_customers_stripe_lost", row)

    assert "1 mapping(s) forgotten; those users get a new customer next time." in (
        messages_of(response)
    )
    assert ReplacedStripeCustomer.objects.get().customer_id == row.customer_id
    assert create_customer_session(user).customer != row.customer_id


def test_verify_action_reports_stripe_being_down(admin_client_, fake_stripe):
    row = StripeCustomer.objects.get(customer_id=get_or_create_customer(UserFactory()))
    fake_stripe.fail_next(500, times=None)

    response = verify(admin_client_, "verify_against_stripe", row)

    assert any(m.startswith("Stripe could not be asked: ") for m in messages_of(response))


def test_replaced_customers_are_listed_read_only(admin_client_):
    user = UserFactory(username="ada")
    record = ReplacedStripeCustomer.objects.create(
        user=user, mode="test", account="", customer_id="cus_Old", reason="deleted"
    )

    listing = admin_client_.get("/admin/customer_sessions/replacedstripecustomer/")
    page = admin_client_.get(f"/admin/customer_sessions/replacedstripecustomer/{record.pk}/change/")

    html = listing.content.decode()
    assert 'href="https://dashboard.stripe.com/test/customers/cus_Old"' in html
    assert "Deleted in Stripe" in html
    assert 'name="customer_id"' not in page.content.decode()
    delete = admin_client_.post(
        f"/admin/customer_sessions/replacedstripecustomer/{record.pk}/delete/", {"post": "yes"}
    )
    assert delete.status_code == 403
    assert ReplacedStripeCustomer.objects.filter(pk=record.pk).exists()


# --- the inline, on a site's own user admin ---------------------------------------------

site = admin.AdminSite(name="inline_site")


class UserWithCustomersAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, StripeCustomerInline]


site.register(get_user_model(), UserWithCustomersAdmin)
urlpatterns = [path("admin/", site.urls)]


@override_settings(ROOT_URLCONF=__name__)
def test_the_inline_shows_a_users_customers_on_the_user_admin(admin_client_):
    user = UserFactory(username="ada")
    StripeCustomerFactory(user=user, customer_id="cus_Platform")
    StripeCustomerFactory(user=user, customer_id="cus_Shop", account="acct_1Shop", mode="live")
    StripeCustomerFactory(customer_id="cus_SomeoneElse")

    response = admin_client_.get(f"/admin/auth/user/{user.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="https://dashboard.stripe.com/test/customers/cus_Platform"' in html
    assert 'href="https://dashboard.stripe.com/acct_1Shop/customers/cus_Shop"' in html
    assert "cus_SomeoneElse" not in html
    assert 'name="stripe_customers-0-customer_id"' not in html


def test_forgetting_needs_the_delete_permission(fake_stripe):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(
            codename="view_stripecustomer", content_type__app_label="customer_sessions"
        )
    )
    client = Client()
    client.force_login(viewer)
    user = UserFactory(username="gone")
    row = StripeCustomer.objects.get(customer_id=get_or_create_customer(user))
    fake_stripe.delete_customer(row.customer_id)

    html = client.get(CHANGELIST).content.decode()
    assert 'value="verify_against_stripe"' in html
    assert 'value="forget_customers_stripe_lost"' not in html

    verify(client, "forget_customers_stripe_lost", row)
    row.refresh_from_db()
    assert row.customer_id
    assert not ReplacedStripeCustomer.objects.exists()
    response = verify(client, "verify_against_stripe", row)
    assert f"Deleted in Stripe: {row.customer_id} (gone)" in messages_of(response)


def test_processed_webhook_events_are_listed_read_only(admin_client_):
    from customer_sessions.models import ProcessedWebhookEvent

    ProcessedWebhookEvent.objects.create(event_id="evt_1", type="customer.deleted", livemode=False)

    response = admin_client_.get("/admin/customer_sessions/processedwebhookevent/", {"q": "evt_1"})

    assert [e.event_id for e in response.context["cl"].result_list] == ["evt_1"]
    assert 'href="/admin/customer_sessions/processedwebhookevent/add/"' not in (
        response.content.decode()
    )


def test_a_customer_account_links_to_its_account_page(admin_client_, fake_stripe, settings):
    assert (
        dashboard_url("acct_1A", "test", "", "account")
        == "https://dashboard.stripe.com/test/connect/accounts/acct_1A"
    )
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "CUSTOMER_OBJECT": "account"}
    account_id = get_or_create_customer(UserFactory(username="ada"))

    page = admin_client_.get(CHANGELIST).content.decode()

    assert f'href="https://dashboard.stripe.com/test/connect/accounts/{account_id}"' in page
    assert "Customer-configured account" in page


def test_verify_action_asks_for_a_customer_account_with_v2(admin_client_, fake_stripe, settings):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "CUSTOMER_OBJECT": "account"}
    ok = StripeCustomer.objects.get(customer_id=get_or_create_customer(UserFactory(username="ok")))
    closed = StripeCustomer.objects.get(
        customer_id=get_or_create_customer(UserFactory(username="gone"))
    )
    fake_stripe.close_account(closed.customer_id)
    before = len(fake_stripe.requests)

    response = verify(admin_client_, "verify_against_stripe", ok, closed)

    assert sorted(messages_of(response)) == sorted(
        ["1 customer(s) exist in Stripe.", f"Deleted in Stripe: {closed.customer_id} (gone)"]
    )
    assert sorted(r.path for r in fake_stripe.requests[before:]) == sorted(
        f"/v2/core/accounts/{r.customer_id}" for r in (ok, closed)
    )
