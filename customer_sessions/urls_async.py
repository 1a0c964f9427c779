"""For ASGI sites: ``path("api/", include("customer_sessions.urls_async"))``.

The URLs and names of ``customer_sessions.urls``, with the session endpoint served by the
async view, which awaits Stripe instead of holding a thread. WSGI sites keep
``customer_sessions.urls``: under WSGI an async view runs in a new event loop per request,
and so would open a new connection to Stripe per request.
"""

from django.urls import path

from . import urls
from .api.async_views import AsyncCustomerSessionView

app_name = "customer_sessions"

urlpatterns = [
    path("customer-session/", AsyncCustomerSessionView.as_view(), name="customer-session"),
    *(pattern for pattern in urls.urlpatterns if pattern.name != "customer-session"),
]
