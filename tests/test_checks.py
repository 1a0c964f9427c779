"""``manage.py check``: every check of the app, by its stable id and its whole message."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
import stripe
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from customer_sessions import checks as app_checks

SK_TEST = "sk_test_abc123"
SK_LIVE = "sk_live_abc123"
RK_LIVE = "rk_live_abc123"
PK_TEST = "pk_test_abc123"
PK_LIVE = "pk_live_abc123"
UPDATE = "django.middleware.cache.UpdateCacheMiddleware"
FETCH = "django.middleware.cache.FetchFromCacheMiddleware"
OURS = "customer_sessions.middleware.CustomerSessionMiddleware"
LOCMEM = "django.core.cache.backends.locmem.LocMemCache"


def keys(**values: Any) -> Any:
    return override_settings(CUSTOMER_SESSIONS=values)


def ids(messages: list[checks.CheckMessage]) -> list[str | None]:
    return [m.id for m in messages if m.id and m.id.startswith("customer_sessions.")]


# --- W001 / E001: no secret key --------------------------------------------------------


def test_no_secret_key_is_a_warning_in_a_plain_check():
    with keys():
        assert app_checks.check_secret_key() == [
            checks.Warning(
                "CUSTOMER_SESSIONS['SECRET_KEY'] is not set; customer sessions will fail.",
                hint="Set it to your Stripe secret key (sk_test_… while developing).",
                id="customer_sessions.W001",
            )
        ]
        # A build without secrets can still run migrate/collectstatic: no error.
        call_command("check")


def test_no_secret_key_is_an_error_under_deploy():
    with keys():
        assert app_checks.check_secret_key_deploy() == [
            checks.Error(
                "CUSTOMER_SESSIONS['SECRET_KEY'] is not set.",
                hint="Set it to your Stripe secret key (sk_live_… in production).",
                id="customer_sessions.E001",
            )
        ]
        with pytest.raises(SystemCheckError, match=r"customer_sessions\.E001"):
            call_command("check", deploy=True)


def test_a_secret_key_silences_w001_and_e001():
    with keys(SECRET_KEY=SK_TEST):
        assert app_checks.check_secret_key() == []
        assert app_checks.check_secret_key_deploy() == []


# --- W002: SQLite -------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_sqlite_without_immediate_is_a_warning():
    databases = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x.sqlite3"}}
    with override_settings(DATABASES=databases):
        assert app_checks.check_sqlite_transaction_mode() == [
            checks.Warning(
                "Database 'default' is SQLite without OPTIONS['transaction_mode'] = 'IMMEDIATE'.",
                hint=(
                    "Concurrent first requests of a new user can then fail with 'database is "
                    "locked'. Set DATABASES[…]['OPTIONS'] = {'transaction_mode': 'IMMEDIATE'}."
                ),
                id="customer_sessions.W002",
            )
        ]
    databases["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE"}  # type: ignore[assignment]
    with override_settings(DATABASES=databases):
        assert app_checks.check_sqlite_transaction_mode() == []


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_a_plain_manage_py_check_reports_w002():
    """Not only ``check --database``: the warning is about settings, read without a query."""
    databases = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x.sqlite3"}}
    out = StringIO()
    with override_settings(DATABASES=databases):
        call_command("check", stdout=out, stderr=out)
    assert "(customer_sessions.W002) Database 'default' is SQLite without" in out.getvalue()


# --- E002 / E003 / E006: keys -------------------------------------------------------------


def test_publishable_key_of_the_other_mode_is_an_error():
    expected = checks.Error(
        "CUSTOMER_SESSIONS['PUBLISHABLE_KEY'] is a live mode key but "
        "CUSTOMER_SESSIONS['SECRET_KEY'] is a test mode key.",
        hint="Stripe.js cannot use a Customer Session made in the other mode: take "
        "both keys from the same mode of the same Stripe account.",
        id="customer_sessions.E003",
    )
    with keys(SECRET_KEY=SK_TEST, PUBLISHABLE_KEY=PK_LIVE):
        assert app_checks.check_keys() == [expected]
    with keys(SECRET_KEY=RK_LIVE, PUBLISHABLE_KEY=PK_TEST):
        assert [m.id for m in app_checks.check_keys()] == ["customer_sessions.E003"]
    with keys(SECRET_KEY=SK_LIVE, PUBLISHABLE_KEY=PK_LIVE):
        assert app_checks.check_keys() == []
    with keys(SECRET_KEY=SK_TEST):  # no publishable key: nothing to compare
        assert app_checks.check_keys() == []


def test_a_publishable_key_as_secret_key_is_an_error():
    with keys(SECRET_KEY=PK_TEST, PUBLISHABLE_KEY=PK_TEST):
        assert app_checks.check_keys() == [
            checks.Error(
                "CUSTOMER_SESSIONS['SECRET_KEY'] is not a Stripe secret or restricted key.",
                hint="Use the key that starts with sk_test_/sk_live_ (or rk_test_/rk_live_) "
                "from https://dashboard.stripe.com/apikeys.",
                id="customer_sessions.E002",
            )
        ]


def test_a_secret_key_as_publishable_key_is_an_error():
    """The publishable key is rendered into pages: a secret key there is a leak."""
    with keys(SECRET_KEY=SK_TEST, PUBLISHABLE_KEY=SK_TEST):
        assert app_checks.check_keys() == [
            checks.Error(
                "CUSTOMER_SESSIONS['PUBLISHABLE_KEY'] is not a Stripe publishable key.",
                hint="It is sent to every browser: use the key that starts with pk_test_ or "
                "pk_live_, never a secret or restricted key.",
                id="customer_sessions.E006",
            )
        ]


# --- W003: live key with DEBUG ------------------------------------------------------------


def test_live_key_with_debug_is_a_warning():
    expected = checks.Warning(
        "CUSTOMER_SESSIONS['SECRET_KEY'] is a live mode key while DEBUG is True.",
        hint="Real customers are created and a debug page can show request details; "
        "use a test mode key (sk_test_…) while developing.",
        id="customer_sessions.W003",
    )
    with keys(SECRET_KEY=SK_LIVE), override_settings(DEBUG=True):
        assert app_checks.check_live_key_with_debug() == [expected]
    with keys(SECRET_KEY=SK_LIVE), override_settings(DEBUG=False):
        assert app_checks.check_live_key_with_debug() == []
    with keys(SECRET_KEY=SK_TEST), override_settings(DEBUG=True):
        assert app_checks.check_live_key_with_debug() == []


# --- E007 / W004: stripe-python printing to the console -----------------------------------


def test_stripe_debug_console_output_is_an_error(monkeypatch):
    monkeypatch.delenv("STRIPE_LOG", raising=False)
    assert app_checks.check_stripe_console_log() == []
    monkeypatch.setattr(stripe, "log", "debug")
    assert app_checks.check_stripe_console_log() == [
        checks.Error(
            "stripe-python is told to print debug output to the console "
            "(stripe.log or the STRIPE_LOG environment variable is 'debug').",
            hint="It prints every response body, client secrets included, to stderr, "
            "where no logging filter can remove them. Unset it; use the 'stripe' "
            "logger if you need Stripe's request log.",
            id="customer_sessions.E007",
        )
    ]


def test_stripe_info_console_output_from_the_environment_is_a_warning(monkeypatch):
    monkeypatch.setattr(stripe, "log", None)
    monkeypatch.setenv("STRIPE_LOG", "info")
    assert app_checks.check_stripe_console_log() == [
        checks.Warning(
            "stripe-python is told to print request lines to the console "
            "(stripe.log or the STRIPE_LOG environment variable is 'info').",
            hint="Its output goes to stderr past every logging filter. Unset it; use "
            "the 'stripe' logger instead.",
            id="customer_sessions.W004",
        )
    ]
    monkeypatch.setenv("STRIPE_LOG", "debug")
    assert ids(app_checks.check_stripe_console_log()) == ["customer_sessions.E007"]


# --- I001: restricted keys ----------------------------------------------------------------


def test_restricted_key_names_the_permissions_it_needs_under_deploy():
    with keys(SECRET_KEY=RK_LIVE):
        assert app_checks.check_restricted_key() == [
            checks.Info(
                "CUSTOMER_SESSIONS['SECRET_KEY'] is a restricted key; its permissions cannot "
                "be checked without calling Stripe.",
                hint="It needs Write access to Customers and to Customer Sessions. A missing "
                "permission shows as 'stripe_misconfigured' errors (403 from Stripe).",
                id="customer_sessions.I001",
            )
        ]
        assert "customer_sessions.I001" not in ids(checks.run_checks())
        assert "customer_sessions.I001" in ids(checks.run_checks(include_deployment_checks=True))
    with keys(SECRET_KEY=SK_LIVE):
        assert app_checks.check_restricted_key() == []


# --- E004 / E008: the middleware --------------------------------------------------------

GZIP = "django.middleware.gzip.GZipMiddleware"


@pytest.mark.parametrize(
    "middleware",
    [
        ["django.middleware.common.CommonMiddleware"],
        [UPDATE, "django.middleware.common.CommonMiddleware", FETCH],
    ],
    ids=["without-a-cache", "with-the-page-cache"],
)
def test_without_our_middleware_is_an_error(middleware):
    with override_settings(MIDDLEWARE=middleware):
        assert app_checks.check_middleware() == [
            checks.Error(
                f"{OURS} is not in MIDDLEWARE.",
                hint="It keeps every response that carries a client secret out of Django's "
                "cache and shared caches (Cache-Control: no-store, private), and writes the "
                "secrets of {% customer_session %} into the page only once it is rendered, so "
                "no traceback holds one. Add it to MIDDLEWARE.",
                id="customer_sessions.E004",
            )
        ]


def test_gzip_inside_our_middleware_is_an_error():
    with override_settings(MIDDLEWARE=[OURS, GZIP]):
        assert app_checks.check_middleware() == [
            checks.Error(
                f"{GZIP} comes after {OURS} in MIDDLEWARE.",
                hint="It would compress a page before the middleware writes the page's "
                "secrets into it, and those pages would have none. Put GZipMiddleware "
                "before it (Django's docs put it near the top).",
                id="customer_sessions.E008",
            )
        ]


@pytest.mark.parametrize(
    "middleware",
    [[UPDATE, FETCH, OURS], [OURS, UPDATE, FETCH], [GZIP, UPDATE, OURS, FETCH], [OURS]],
)
def test_our_middleware_anywhere_relative_to_the_cache_is_fine(middleware):
    with override_settings(MIDDLEWARE=middleware):
        assert app_checks.check_middleware() == []


def test_a_gzipped_page_gets_no_secret_and_an_error_in_the_log(
    fake_stripe, signed_in, settings, caplog
):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, GZIP]
    page = signed_in.get("/checkout/", HTTP_ACCEPT_ENCODING="gzip")
    import gzip

    body = gzip.decompress(page.content).decode()
    assert "cuss_secret_" not in body
    assert any("GZipMiddleware" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")


# --- W005: rest_framework -----------------------------------------------------------------


def test_rest_framework_missing_from_installed_apps_is_a_warning(settings):
    apps_without = [a for a in settings.INSTALLED_APPS if a != "rest_framework"]
    with override_settings(INSTALLED_APPS=apps_without):
        assert app_checks.check_rest_framework() == [
            checks.Warning(
                "'rest_framework' is not in INSTALLED_APPS.",
                hint="The customer session endpoint is a Django REST framework view; add "
                "'rest_framework' to INSTALLED_APPS.",
                id="customer_sessions.W005",
            )
        ]
    assert app_checks.check_rest_framework() == []


# --- W006: a process-local throttle cache -------------------------------------------------


def test_process_local_throttle_cache_is_a_deploy_warning():
    expected = checks.Warning(
        f"The customer session throttle counts in the default cache, {LOCMEM}, which "
        "is not shared between processes.",
        hint="With several worker processes or servers each one counts on its own (and "
        "DummyCache counts nothing), so the per-user limit is not enforced. Use a shared "
        "cache (Redis, Memcached, database) as CACHES['default'].",
        id="customer_sessions.W006",
    )
    with override_settings(CACHES={"default": {"BACKEND": LOCMEM}}):
        assert app_checks.check_throttle_cache() == [expected]
        assert "customer_sessions.W006" not in ids(checks.run_checks())
        assert "customer_sessions.W006" in ids(checks.run_checks(include_deployment_checks=True))
    shared = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "t"}
    }
    with override_settings(CACHES=shared):
        assert app_checks.check_throttle_cache() == []


def test_throttle_cache_does_not_matter_when_throttling_is_off():
    with (
        override_settings(CACHES={"default": {"BACKEND": LOCMEM}}),
        keys(SECRET_KEY=SK_TEST, THROTTLE_RATE=None),
    ):
        assert app_checks.check_throttle_cache() == []


# --- W007: the request context processor --------------------------------------------------


def test_missing_request_context_processor_is_a_warning(settings):
    engine = {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.contrib.auth.context_processors.auth"]},
    }
    with override_settings(TEMPLATES=[engine]):
        assert app_checks.check_request_context_processor() == [
            checks.Warning(
                "'django.template.context_processors.request' is not in the context "
                "processors of a DjangoTemplates engine.",
                hint="{% customer_session %} needs the request in the template context; add it "
                "to TEMPLATES[…]['OPTIONS']['context_processors'].",
                id="customer_sessions.W007",
            )
        ]
    assert app_checks.check_request_context_processor() == []


def test_the_demo_settings_pass_every_plain_check():
    with keys(SECRET_KEY=SK_TEST, PUBLISHABLE_KEY=PK_TEST):
        assert ids(checks.run_checks()) == []


# --- W008: unknown keys in CUSTOMER_SESSIONS ----------------------------------------------


def test_a_misspelt_setting_is_a_warning_naming_the_right_one(settings):
    from customer_sessions.conf import DEFAULTS

    with override_settings(CUSTOMER_SESSIONS={"SECRET_KEY": SK_TEST, "TIMEOUTS": 5}):
        assert app_checks.check_unknown_settings() == [
            checks.Warning(
                "CUSTOMER_SESSIONS['TIMEOUTS'] is not a setting of the app and is ignored.",
                hint=f"Did you mean 'TIMEOUT'? Known keys: {', '.join(DEFAULTS)}.",
                id="customer_sessions.W008",
            )
        ]
    assert app_checks.check_unknown_settings() == []


# --- E009: WEBHOOK_TOLERANCE ----------------------------------------------------------------


@pytest.mark.parametrize("tolerance", [0, None, -5, "300", True, float("inf")], ids=repr)
def test_a_webhook_tolerance_that_is_not_a_positive_number_is_an_error(tolerance):
    with keys(SECRET_KEY=SK_TEST, WEBHOOK_TOLERANCE=tolerance):
        assert app_checks.check_webhook_tolerance() == [
            checks.Error(
                f"CUSTOMER_SESSIONS['WEBHOOK_TOLERANCE'] = {tolerance!r} is not a positive "
                "number of seconds.",
                hint="It bounds how old (or how far ahead) a signed event may be; 0 or None "
                "would accept a replayed event of any age, so the webhook refuses every event "
                "(500) until it is fixed. Leave it out for the default, 300.",
                id="customer_sessions.E009",
            )
        ]
        with pytest.raises(SystemCheckError, match=r"customer_sessions\.E009"):
            call_command("check")


@pytest.mark.parametrize("tolerance", [300, 1, 0.5, 86400])
def test_a_positive_webhook_tolerance_passes(tolerance):
    with keys(SECRET_KEY=SK_TEST, WEBHOOK_TOLERANCE=tolerance):
        assert app_checks.check_webhook_tolerance() == []
    with keys(SECRET_KEY=SK_TEST):
        assert app_checks.check_webhook_tolerance() == []


# --- W009: a live key sent somewhere else than Stripe ------------------------------------------


@pytest.mark.parametrize(
    ("api_base", "where"),
    [
        ("http://127.0.0.1:12111", "http://127.0.0.1:12111"),
        ("https://stripe-mock.internal", "https://stripe-mock.internal"),
        ("http://api.stripe.com", "http://api.stripe.com"),
        ("https://api.stripe.com.evil.example", "https://api.stripe.com.evil.example"),
        ("https://user:pw@api.stripe.com:8443", "https://api.stripe.com:8443"),
        ("https://api.stripe.com:port", "https://api.stripe.com"),
        ("not a url", "'not a url'"),
    ],
)
def test_a_live_key_with_an_api_base_that_is_not_stripe_is_a_deploy_warning(api_base, where):
    expected = checks.Warning(
        "CUSTOMER_SESSIONS['SECRET_KEY'] is a live mode key but CUSTOMER_SESSIONS['API_BASE'] "
        f"sends it to {where}, not to Stripe's API.",
        hint="Every request would hand the live key to that server. API_BASE is for a "
        "Stripe double in tests and development: unset it in production, or use a test "
        "mode key with it.",
        id="customer_sessions.W009",
    )
    with keys(SECRET_KEY=SK_LIVE, API_BASE=api_base):
        assert app_checks.check_live_key_api_base() == [expected]
        assert "customer_sessions.W009" in ids(checks.run_checks(include_deployment_checks=True))
        assert "customer_sessions.W009" not in ids(checks.run_checks())
    with keys(SECRET_KEY=RK_LIVE, API_BASE=api_base):
        assert app_checks.check_live_key_api_base() == [expected]


@pytest.mark.parametrize(
    ("key", "api_base"),
    [
        (SK_LIVE, None),
        (SK_LIVE, "https://api.stripe.com"),
        (SK_LIVE, "https://api.stripe.com/"),
        (SK_LIVE, "https://api.stripe.com:443"),
        (SK_TEST, "http://127.0.0.1:12111"),
    ],
)
def test_stripes_api_or_a_test_key_is_fine(key, api_base):
    with keys(SECRET_KEY=key, API_BASE=api_base):
        assert app_checks.check_live_key_api_base() == []


# --- E010 / W010: rates and the site's budget -----------------------------------------------


@pytest.mark.parametrize("name", ["THROTTLE_RATE", "SITE_SESSION_RATE"])
@pytest.mark.parametrize("value", ["ten/s", "10", "10/fortnight", "0/s"])
def test_a_rate_that_is_not_one_is_an_error(name, value):
    with keys(SECRET_KEY=SK_TEST, **{name: value}):
        assert app_checks.check_rates() == [
            checks.Error(
                f"CUSTOMER_SESSIONS['{name}'] = {value!r} is not a rate.",
                hint="Write it as Django REST framework writes rates, a number of sessions "
                'per second, minute, hour or day: "10/s", "600/min", "1000/day"; None '
                "turns it off.",
                id="customer_sessions.E010",
            )
        ]


def test_rates_that_are_rates_are_fine():
    with keys(SECRET_KEY=SK_TEST, THROTTLE_RATE="60/min", SITE_SESSION_RATE="10/s"):
        assert app_checks.check_rates() == []


def test_a_site_budget_over_a_per_process_cache_is_a_deploy_warning():
    local = {"default": {"BACKEND": LOCMEM}}
    with keys(SECRET_KEY=SK_TEST, SITE_SESSION_RATE="10/s"), override_settings(CACHES=local):
        assert app_checks.check_site_budget_cache() == [
            checks.Warning(
                f"CUSTOMER_SESSIONS['SITE_SESSION_RATE'] is counted in the default cache, "
                f"{LOCMEM}, which is not shared between processes.",
                hint="Each worker process or server would allow the whole rate on its own (and "
                "DummyCache counts nothing), so the site asks Stripe for that many sessions per "
                "process. Use a shared cache (Redis, Memcached) as CACHES['default'].",
                id="customer_sessions.W010",
            )
        ]
        assert "customer_sessions.W010" not in ids(checks.run_checks())
        assert "customer_sessions.W010" in ids(checks.run_checks(include_deployment_checks=True))
    shared = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
    with keys(SECRET_KEY=SK_TEST, SITE_SESSION_RATE="10/s"), override_settings(CACHES=shared):
        assert app_checks.check_site_budget_cache() == []


# --- W011: users mapped to the other kind than CUSTOMER_OBJECT ------------------------


@pytest.mark.django_db
def test_switching_to_accounts_says_how_many_users_keep_their_customers(fake_stripe, settings):
    from customer_sessions.services import get_or_create_customer

    from .factories import UserFactory

    for user in UserFactory.create_batch(3):
        get_or_create_customer(user)
    assert checks.run_checks(databases=["default"], tags=[checks.Tags.database]) == []
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "CUSTOMER_OBJECT": "account"}
    get_or_create_customer(UserFactory())  # a newcomer: an account, not counted

    messages = app_checks.check_customer_object_switch(databases=["default"])

    assert ids(messages) == ["customer_sessions.W011"]
    assert messages[0].msg.startswith("3 user(s) in database 'default' are mapped to Customers")
    assert "they keep them" in messages[0].msg
    # A plain `manage.py check` does not touch the database.
    assert app_checks.check_customer_object_switch(databases=None) == []


def test_an_unknown_customer_object_is_a_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    from customer_sessions.conf import get_settings

    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "CUSTOMER_OBJECT": "accounts"}
    with pytest.raises(ImproperlyConfigured, match="CUSTOMER_OBJECT"):
        get_settings()
