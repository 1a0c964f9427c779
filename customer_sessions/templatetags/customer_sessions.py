"""``{% customer_session %}``: a fresh Customer Session secret for the page's user.

Usage::

    {% load customer_sessions %}
    {% customer_session %}       {# <script id="customer-session" type="application/json"> #}
    {% customer_session "cs-json" %}                {# the same, with another element id #}
    {% customer_session components="pricing_table" %}
    {% customer_session as cs %}                    {# binds a CustomerSession (or None) #}

Read it in JavaScript with
``JSON.parse(document.getElementById("customer-session").textContent)``.

Every render creates a new session. For an anonymous user it renders nothing (binds
``None``) and calls no one. When Stripe fails the page still renders, without the
secret, and a warning is logged. The tag needs ``request`` in the context
(``django.template.context_processors.request``) and
``customer_sessions.middleware.CustomerSessionMiddleware``: the tag renders a stand-in
for the secret, which the middleware replaces once the whole page is rendered (so no
template frame ever holds the secret), and the middleware keeps the page out of every
cache (check E004 reports a site without it; rendered without it, as in a unit test with
``RequestFactory``, the secret is written straight in and a warning logged once). It is
refused directly inside ``{% cache %}``: a cached fragment cannot be fresh (through
``{% include %}``, the fragment holds only a stand-in, and the middleware logs an error
when a page carries a stand-in it did not issue).
"""

from __future__ import annotations

import dataclasses
import logging

from django import template
from django.core.exceptions import ImproperlyConfigured
from django.template.base import FilterExpression, Parser, Token
from django.template.context import Context
from django.utils.html import json_script
from django.views.decorators.debug import sensitive_variables

from ..connect import account_for
from ..exceptions import CustomerSessionError, StripeMisconfigured, UnknownComponents
from ..middleware import mark_issued, pending_secrets
from ..sessions import create_customer_session
from ..values import ClientSecret, CustomerSession

logger = logging.getLogger(__name__)
register = template.Library()

DEFAULT_ELEMENT_ID = "customer-session"
TAG = "customer_session"
_CACHE_MESSAGE = (
    "{% customer_session %} cannot be used inside {% cache %}: the cached fragment would "
    "give every visitor the same client secret. Move the tag outside the cached block."
)


class CustomerSessionNode(template.Node):
    def __init__(
        self,
        element_id: FilterExpression | None,
        components: FilterExpression | None,
        target_var: str | None,
    ) -> None:
        self.element_id = element_id
        self.components = components
        self.target_var = target_var

    @sensitive_variables()
    def render(self, context: Context) -> str:
        session = self._session(context)
        if self.target_var is not None:
            context[self.target_var] = session
            return ""
        if session is None:
            return ""
        element_id = self.element_id.resolve(context) if self.element_id else DEFAULT_ELEMENT_ID
        return json_script(session.as_json(), str(element_id))

    @sensitive_variables()
    def _session(self, context: Context) -> CustomerSession | None:
        request = context.get("request")
        if request is None:
            raise ImproperlyConfigured(
                "{% customer_session %} needs the request in the template context: add "
                "'django.template.context_processors.request' to the template engine's "
                "context_processors, or render with render(request, …)."
            )
        # What the tag renders depends on who is signed in: even an anonymous visitor's
        # page (no secret) must not be cached and served to signed-in users.
        mark_issued(request)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        components = self.components.resolve(context) if self.components else None
        try:
            session = create_customer_session(user, components, account=account_for(request))
        except UnknownComponents:
            raise
        except CustomerSessionError as exc:
            log = logger.error if isinstance(exc, StripeMisconfigured) else logger.warning
            log(
                "No customer session for user %s; the page renders without saved payment "
                "methods: %s (%s)",
                user.pk,
                exc.code,
                exc.detail,
            )
            return None
        pending = pending_secrets(request)
        if pending is None:
            # Rendered outside CustomerSessionMiddleware (a unit test's RequestFactory
            # request, or a site without it, which check E008 reports): the secret goes
            # straight into the page, as it must for the page to work.
            _warn_without_middleware()
            return session
        # The page holds a stand-in; the middleware writes the secret in at the very end.
        return dataclasses.replace(
            session, client_secret=ClientSecret(pending.stand_in(session.client_secret))
        )


_warned: list[bool] = []


def _warn_without_middleware() -> None:
    if not _warned:
        _warned.append(True)
        logger.warning(
            "{%% customer_session %%} rendered for a request that did not pass through "
            "customer_sessions.middleware.CustomerSessionMiddleware: its secret is written "
            "straight into the page, where a traceback of a later failure can show it, and "
            "the response is not marked no-store. Add the middleware to MIDDLEWARE."
        )


@register.tag(TAG)
def customer_session(parser: Parser, token: Token) -> CustomerSessionNode:
    """Compile ``{% customer_session ["element-id"] [components="preset"] [as var] %}``."""
    # Directly inside {% cache %}: refused when the template is compiled. Through
    # {% include %} or {% extends %} the fragment holds the tag's stand-in, never a secret,
    # and the middleware reports the stand-in it finds again in a later page.
    if any(command == "cache" for command, _ in parser.command_stack):
        raise template.TemplateSyntaxError(_CACHE_MESSAGE)
    bits = token.split_contents()[1:]
    target_var = None
    if len(bits) >= 2 and bits[-2] == "as":
        target_var = bits[-1]
        bits = bits[:-2]
    element_id: FilterExpression | None = None
    components: FilterExpression | None = None
    for bit in bits:
        name, sep, value = bit.partition("=")
        if bit == "as":
            raise template.TemplateSyntaxError(f"'as' in {{% {TAG} %}} needs one variable name.")
        if sep and name == "components" and components is None:
            components = parser.compile_filter(value)
        elif not sep and element_id is None and components is None and target_var is None:
            element_id = parser.compile_filter(bit)
        else:
            raise template.TemplateSyntaxError(
                f"Unexpected {bit!r} in {{% {TAG} %}}. Usage: "
                f'{{% {TAG} ["element-id"] [components="preset"] [as var] %}}'
            )
    return CustomerSessionNode(element_id, components, target_var)
