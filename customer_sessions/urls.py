"""Include under any prefix: ``path("api/", include("customer_sessions.urls"))``."""

from django.urls import path

from .api.views import CustomerSessionView

app_name = "customer_sessions"

urlpatterns = [
    path("customer-session/", CustomerSessionView.as_view(), name="customer-session"),
]
