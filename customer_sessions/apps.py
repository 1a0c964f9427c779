import importlib.util

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomerSessionsConfig(AppConfig):
    name = "customer_sessions"
    verbose_name = _("Stripe customer sessions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import stripe

        from . import __version__, checks, conf, lifecycle, redaction, services  # noqa: F401

        redaction.install()
        if importlib.util.find_spec("drf_spectacular") is not None:
            from .api import openapi  # noqa: F401 - registers the endpoint's schema
        stripe.set_app_info(
            "django-customer-sessions",
            version=__version__,
            url="https://github.com/django-customer-sessions/django-customer-sessions",
        )
