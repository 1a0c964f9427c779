"""``{% customer_session %}``."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.test import RequestFactory

from customer_sessions.middleware import CustomerSessionMiddleware
from customer_sessions.models import StripeCustomer
from customer_sessions.services import CustomerSession

from .factories import UserFactory

pytestmark = pytest.mark.django_db

SCRIPT = re.compile(r'<script id="([^"]+)" type="application/json">(.*?)</script>', re.S)


def through_middleware(render_page, user, path: str = "/checkout/") -> str:  # type: ignore[no-untyped-def]
    """What a site serves: ``render_page(request)`` under CustomerSessionMiddleware."""
    request = RequestFactory().get(path)
    request.user = user
    response = CustomerSessionMiddleware(lambda r: HttpResponse(render_page(r)))(request)
    return response.content.decode()


def render(source: str, user, **context) -> str:  # type: ignore[no-untyped-def]
    template = Template("{% load customer_sessions %}" + source)
    return through_middleware(
        lambda request: template.render(Context({"request": request, **context})), user
    )


def test_renders_a_json_script_with_a_fresh_secret(fake_stripe, user):
    html = render("{% customer_session %}", user)

    [(element_id, payload)] = SCRIPT.findall(html)
    data = json.loads(payload)
    assert element_id == "customer-session"
    assert set(data) == {"client_secret", "expires_at"}
    assert data["client_secret"] == fake_stripe.customer_sessions[-1]["client_secret"]
    assert (
        data["client_secret"]
        != json.loads(SCRIPT.findall(render("{% customer_session %}", user))[0][1])["client_secret"]
    )


def test_element_id_and_components_can_be_given(fake_stripe, user):
    html = render('{% customer_session "pt-session" components="pricing_table" %}', user)
    [(element_id, _)] = SCRIPT.findall(html)
    assert element_id == "pt-session"
    assert set(fake_stripe.requests[-1].params["components"]) == {"pricing_table"}


def test_as_binds_the_value(fake_stripe, user):
    html = render(
        "{% customer_session as cs %}<stripe-pricing-table customer-session-client-secret="
        '"{{ cs.client_secret }}"></stripe-pricing-table>{{ cs.customer }}',
        user,
    )
    assert (
        f'customer-session-client-secret="{fake_stripe.customer_sessions[-1]["client_secret"]}"'
        in html
    )
    assert html.endswith(StripeCustomer.objects.get(user=user).customer_id)


def test_as_binds_a_customer_session(fake_stripe, user):
    context = Context()
    template = Template("{% load customer_sessions %}{% customer_session as cs %}")

    def page(request):  # type: ignore[no-untyped-def]
        context["request"] = request
        return template.render(context)

    through_middleware(page, user)
    assert isinstance(context["cs"], CustomerSession)
    # What the template holds is a stand-in; the middleware wrote the secret into the page.
    assert context["cs"].client_secret.startswith("cuss_pending_")
    assert context["cs"].customer == StripeCustomer.objects.get(user=user).customer_id


def test_without_the_middleware_the_secret_is_written_straight_in(fake_stripe, user, caplog):
    from customer_sessions.templatetags import customer_sessions as tags

    tags._warned.clear()
    request = RequestFactory().get("/")
    request.user = user
    template = Template("{% load customer_sessions %}{% customer_session %}")
    for _ in range(2):
        html = template.render(Context({"request": request}))
        assert fake_stripe.customer_sessions[-1]["client_secret"] in html
    warnings = [r for r in caplog.records if "did not pass through" in r.getMessage()]
    assert len(warnings) == 1  # once per process, not once per page
    assert request._cache_update_cache is False  # Django's cache framework still stores nothing


def test_the_secret_is_escaped_for_a_script_element(fake_stripe, user):
    html = render("{% customer_session %}", user)
    payload = SCRIPT.findall(html)[0][1]
    assert "</" not in payload
    assert "<" not in payload


def test_anonymous_renders_nothing_and_calls_nobody(fake_stripe, db):
    assert render("[{% customer_session %}]", AnonymousUser()) == "[]"
    bound = "{% customer_session as cs %}{% if cs is None %}unbound{% endif %}"
    assert render(bound, AnonymousUser()) == "unbound"
    assert fake_stripe.requests == []


def test_stripe_unavailable_still_renders_the_page(fake_stripe, user, settings, caplog):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "MAX_NETWORK_RETRIES": 0}
    fake_stripe.fail_next(500, times=None)
    html = render("<h1>Pay</h1>{% customer_session %}", user)
    assert html == "<h1>Pay</h1>"
    [record] = [
        r for r in caplog.records if r.name == "customer_sessions.templatetags.customer_sessions"
    ]
    assert record.levelname == "WARNING"
    assert "stripe_unavailable" in record.getMessage()


def test_unknown_preset_is_a_template_error(fake_stripe, user):
    with pytest.raises(Exception, match="Unknown components preset"):
        render('{% customer_session components="nope" %}', user)


def test_without_request_in_context_it_says_what_to_add(fake_stripe, user):
    template = Template("{% load customer_sessions %}{% customer_session %}")
    with pytest.raises(ImproperlyConfigured, match="context_processors.request"):
        through_middleware(lambda request: template.render(Context({"user": user})), user)


@pytest.mark.parametrize(
    "source",
    [
        '{% customer_session "a" "b" %}',
        "{% customer_session foo=1 %}",
        "{% customer_session as %}x",
    ],
)
def test_bad_arguments_are_syntax_errors(source):
    with pytest.raises(TemplateSyntaxError):
        Template("{% load customer_sessions %}" + source)


def test_refused_directly_inside_cache_at_compile_time():
    with pytest.raises(TemplateSyntaxError, match="cannot be used inside {% cache %}"):
        Template(
            "{% load cache customer_sessions %}{% cache 60 x %}{% customer_session %}{% endcache %}"
        )


def _engine() -> Engine:
    return Engine(
        loaders=[
            (
                "django.template.loaders.locmem.Loader",
                {
                    "included.html": "{% load customer_sessions %}{% customer_session %}",
                    "base.html": (
                        "{% load cache %}{% cache 60 page %}"
                        "{% block body %}{% endblock %}{% endcache %}"
                    ),
                    "child.html": (
                        '{% extends "base.html" %}{% load customer_sessions %}'
                        "{% block body %}{% customer_session %}{% endblock %}"
                    ),
                    "include.html": (
                        "{% load cache %}{% cache 60 inc %}"
                        '{% include "included.html" %}{% endcache %}'
                    ),
                },
            )
        ],
        libraries={
            "cache": "django.templatetags.cache",
            "customer_sessions": "customer_sessions.templatetags.customer_sessions",
        },
    )


@pytest.mark.parametrize("name", ["include.html", "child.html"])
def test_inside_cache_through_include_or_extends_the_fragment_holds_no_secret(
    fake_stripe, user, name, settings, caplog
):
    from . import caches

    settings.CACHES = {"default": {"BACKEND": "tests.caches.RecordingCache"}}
    caches.STORED.clear()
    template = _engine().get_template(name)

    def page(request):  # type: ignore[no-untyped-def]
        return template.render(Context({"request": request}))

    first = through_middleware(page, user)
    second = through_middleware(page, UserFactory())

    [secret] = [s["client_secret"] for s in fake_stripe.customer_sessions]
    assert secret in first  # the first render's page works
    assert secret not in second  # the next visitor never gets it
    assert "cuss_pending_" in second  # only the cached stand-in
    assert secret.encode() not in caches.everything_stored()
    assert b"cuss_pending_" in caches.everything_stored()
    assert any("did not issue" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")


def test_outside_cache_through_include_is_fine(fake_stripe, user):
    template = _engine().get_template("included.html")
    html = through_middleware(lambda request: template.render(Context({"request": request})), user)
    [(_, payload)] = SCRIPT.findall(html)
    assert (
        json.loads(payload)["client_secret"] == fake_stripe.customer_sessions[-1]["client_secret"]
    )


# --- whole pages through the demo site --------------------------------------------------


def test_page_response_is_never_cacheable(fake_stripe, signed_in):
    response = signed_in.get("/checkout/")
    assert response.status_code == 200
    assert SCRIPT.findall(response.content.decode())
    cache_control = {p.strip() for p in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= cache_control


def test_each_page_load_has_a_new_secret(fake_stripe, signed_in):
    first = SCRIPT.findall(signed_in.get("/checkout/").content.decode())[0][1]
    second = SCRIPT.findall(signed_in.get("/checkout/").content.decode())[0][1]
    assert json.loads(first)["client_secret"] != json.loads(second)["client_secret"]


def test_page_without_the_tag_stays_cacheable(fake_stripe, signed_in):
    response = signed_in.get("/")
    assert "no-store" not in response.get("Cache-Control", "")
