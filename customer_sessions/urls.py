"""Include under any prefix: ``path("api/", include("customer_sessions.urls"))``."""

from django.urls import path

from .api.views import CustomerSessionView
from .webhooks import stripe_webhook

app_name = "customer_sessions"

urlpatterns = [
    path("customer-session/", CustomerSessionView.as_view(), name="customer-session"),
    # Stripe's webhook endpoint (customer.deleted); needs CUSTOMER_SESSIONS["WEBHOOK_SECRET"].
    path("webhook/", stripe_webhook, name="webhook"),
]
