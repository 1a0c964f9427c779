"""No traceback holds a whole secret: a page that rendered the tag, then failed.

What a page has rendered so far lives in the locals of the template frames that are still
running (``{% for %}`` keeps its rendered parts in a list, ``{% filter %}`` and
``{% spaceless %}`` their output). Django's debug page, its error e-mails and error trackers
that walk frame locals (as Sentry's SDK does) show those locals. Each test renders a page
that fails after the tag, then walks every frame of the traceback, and renders both Django
error reports.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import django
import pytest
from django.core import mail
from django.test import Client
from django.urls import path
from django.utils.log import AdminEmailHandler
from django.views.generic import TemplateView

import tests.urls

pytestmark = pytest.mark.django_db


class Explodes:
    """A template variable whose lookup fails loudly (not silenced by the engine)."""

    @property
    def now(self) -> str:
        raise RuntimeError("the page fails after the tag rendered")


PAGES = {
    "for": "{% for i in items %}{% customer_session %}{{ i }}{% endfor %}{{ explodes.now }}",
    "for-late": "{% for i in items %}{% customer_session %}{% if i == 3 %}{{ explodes.now }}"
    "{% endif %}{% endfor %}",
    "for-as": "{% for i in items %}{% customer_session as cs %}<x-secret value="
    '"{{ cs.client_secret }}"></x-secret>{% if forloop.last %}{{ explodes.now }}{% endif %}'
    "{% endfor %}",
    "filter": "{% filter force_escape %}{% customer_session %}{{ explodes.now }}{% endfilter %}",
    "spaceless": "{% spaceless %}<p>{% customer_session %}</p>{{ explodes.now }}{% endspaceless %}",
    "block": "{% block body %}{% customer_session %}{% with x=explodes.now %}{% endwith %}"
    "{% endblock %}",
}


@pytest.fixture
def failing_page(settings, tmp_path):  # type: ignore[no-untyped-def]
    def install(name: str) -> str:
        (tmp_path / "failing.html").write_text("{% load customer_sessions %}" + PAGES[name])
        settings.TEMPLATES = [
            {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
        ]
        view = TemplateView.as_view(
            template_name="failing.html",
            extra_context={"items": [1, 2, 3], "explodes": Explodes()},
        )
        settings.ROOT_URLCONF = type(
            "Urls",
            (),
            {"urlpatterns": [path("failing/", view), *tests.urls.urlpatterns]},
        )
        return "/failing/"

    return install


def strings_in(value: Any, depth: int = 0, seen: set[int] | None = None) -> Iterator[str]:
    """What an error tracker could show of ``value``: strings inside containers, ``repr``
    of everything else (as Sentry's serializer does)."""
    seen = set() if seen is None else seen
    if id(value) in seen or depth > 6:
        return
    seen.add(id(value))
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes | bytearray):
        yield bytes(value).decode("utf-8", "replace")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key, depth + 1, seen)
            yield from strings_in(item, depth + 1, seen)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from strings_in(item, depth + 1, seen)
    else:
        try:
            yield repr(value)
        except Exception:  # noqa: BLE001 - a repr that fails shows nothing
            return


def frames_of(tb: Any) -> Iterator[Any]:
    while tb is not None:
        yield tb.tb_frame
        tb = tb.tb_next


def issued(fake_stripe) -> list[str]:  # type: ignore[no-untyped-def]
    secrets = [s["client_secret"] for s in fake_stripe.customer_sessions]
    assert secrets
    return secrets


@pytest.mark.parametrize("page", list(PAGES))
def test_no_frame_of_the_traceback_holds_a_secret(fake_stripe, user, failing_page, page):
    url = failing_page(page)
    client = Client()
    client.force_login(user)
    with pytest.raises(RuntimeError, match="fails after the tag") as info:
        client.get(url)

    # Every frame from the test client down to the failing lookup (not this test's own).
    frames = [f for f in frames_of(info.value.__traceback__) if f.f_code.co_filename != __file__]
    names = {frame.f_code.co_name for frame in frames}
    assert "render" in names  # the walk does reach the template frames
    if page in ("for-late", "for-as"):
        assert any("ForNode" in type(frame.f_locals.get("self")).__name__ for frame in frames), (
            "the walk reaches the {% for %} node that keeps the rendered parts"
        )
    for secret in issued(fake_stripe):
        for frame in frames:
            for name, value in frame.f_locals.items():
                for text in strings_in(value):
                    assert secret not in text, (frame.f_code.co_name, name)


@pytest.mark.parametrize("page", ["for", "for-as", "filter"])
def test_the_debug_page_has_no_secret(fake_stripe, user, failing_page, settings, page):
    settings.DEBUG = True
    url = failing_page(page)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    response = client.get(url)

    body = response.content.decode()
    assert response.status_code == 500
    assert "fails after the tag" in body
    assert "Local vars" in body  # the technical page, with every frame's locals
    for secret in issued(fake_stripe):
        assert secret not in body


@pytest.mark.parametrize("page", ["for", "for-as", "filter"])
def test_the_error_email_has_no_secret(fake_stripe, user, failing_page, settings, page):
    settings.DEBUG = False
    # Django 6.0 takes addresses and deprecates (name, address) pairs, which 5.2 needs.
    settings.ADMINS = (
        ["ops@example.com"] if django.VERSION >= (6, 0) else [("Ops", "ops@example.com")]
    )
    if django.VERSION >= (6, 1):  # a site that sends e-mail configures its mailer there
        settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    url = failing_page(page)
    handler = AdminEmailHandler(include_html=True)
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        client = Client(raise_request_exception=False)
        client.force_login(user)
        assert client.get(url).status_code == 500
    finally:
        logger.removeHandler(handler)

    [message] = [m for m in mail.outbox if m.alternatives]  # ours: with the HTML report
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert "fails after the tag" in message.body
    assert "local vars" in html.lower()  # the report shows every frame's locals
    if page == "for-as":
        assert "cuss_pending_" in html  # what the loop rendered so far: stand-ins only
    for secret in issued(fake_stripe):
        assert secret not in message.body
        assert secret not in html


def test_a_page_that_renders_gets_its_secrets(fake_stripe, user, settings, tmp_path):
    """The stand-ins are replaced in a page that succeeds (the other half of the rule)."""
    (tmp_path / "ok.html").write_text(
        "{% load customer_sessions %}{% for i in items %}{% customer_session %}"
        "{% customer_session as cs %}[{{ cs.client_secret }}]{% endfor %}"
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    view = TemplateView.as_view(template_name="ok.html", extra_context={"items": [1, 2]})
    settings.ROOT_URLCONF = type(
        "Urls", (), {"urlpatterns": [path("ok/", view), *tests.urls.urlpatterns]}
    )
    client = Client()
    client.force_login(user)
    response = client.get("/ok/")
    body = response.content.decode()
    assert "cuss_pending_" not in body
    secrets = issued(fake_stripe)
    assert len(secrets) == 4
    for secret in secrets:
        assert body.count(secret) == 1
    assert int(response["Content-Length"]) == len(response.content)


def test_stand_ins_are_not_guessable():
    from customer_sessions.middleware import STAND_IN_PREFIX, PendingSecrets

    pending = PendingSecrets()
    tokens = {pending.stand_in("cuss_secret_x") for _ in range(100)}
    assert len(tokens) == 100
    assert all(
        t.startswith(STAND_IN_PREFIX) and len(t) >= len(STAND_IN_PREFIX) + 32 for t in tokens
    )
    assert "cuss_secret_x" not in repr(pending)


@pytest.mark.django_db(transaction=True)
def test_under_asgi_the_page_gets_its_secret_and_is_never_cached(fake_stripe, user, settings):
    """The middleware's async path: Django's ASGI handler, a sync view rendering the tag."""
    import asyncio

    from django.test import AsyncClient

    settings.ROOT_URLCONF = "tests.urls_caching"
    settings.CACHES = {"default": {"BACKEND": "tests.caches.RecordingCache"}}
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "DIRS": [Path(__file__).parent.parent / "templates", *settings.TEMPLATES[0]["DIRS"]],
        }
    ]

    async def visit() -> Any:
        client = AsyncClient()
        await client.aforce_login(user)
        return await client.get("/outside/")

    response = asyncio.run(visit())
    body = response.content.decode()
    [secret] = issued(fake_stripe)
    assert secret in body
    assert "cuss_pending_" not in body
    assert "no-store" in response["Cache-Control"]


def test_a_streamed_page_never_gets_a_secret(fake_stripe, user, settings, caplog):
    from django.http import StreamingHttpResponse
    from django.template import engines

    template = engines["django"].from_string("{% load customer_sessions %}{% customer_session %}")

    def streamed(request):  # type: ignore[no-untyped-def]
        return StreamingHttpResponse([template.render({}, request)])

    settings.ROOT_URLCONF = type(
        "Urls", (), {"urlpatterns": [path("s/", streamed), *tests.urls.urlpatterns]}
    )
    client = Client()
    client.force_login(user)
    body = b"".join(client.get("/s/").streaming_content).decode()

    assert "cuss_pending_" in body
    for secret in issued(fake_stripe):
        assert secret not in body
    assert any("streamed" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
