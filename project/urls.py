import os

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

# Served by project/asgi.py (uvicorn), the session endpoint is the async one, which awaits
# Stripe instead of holding a thread; under WSGI (runserver, gunicorn) the sync one.
# DEMO_SERVER=wsgi under ASGI serves the sync view there too, for comparison.
API_URLS = (
    "customer_sessions.urls_async"
    if os.environ.get("DEMO_SERVER") == "asgi"
    else "customer_sessions.urls"
)

urlpatterns = [
    path("", views.home, name="home"),
    path("checkout/", views.checkout, name="checkout"),
    path("checkout/save-card/", views.checkout, {"mode": "setup"}, name="save-card"),
    path("checkout/<str:mode>/intent/", views.IntentView.as_view(), name="checkout-intent"),
    path("checkout/done/", views.checkout_done, name="checkout-done"),
    path("pricing-table/", views.pricing_table, name="pricing-table"),
    path("buy-button/", views.buy_button, name="buy-button"),
    path("spa/", views.spa, name="spa"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/token/", views.TokenView.as_view(), name="api-token"),
    path("api/", include(API_URLS)),
    path("admin/", admin.site.urls),
]

if settings.SCHEMA:
    from drf_spectacular.views import SpectacularAPIView

    urlpatterns.append(path("api/schema/", SpectacularAPIView.as_view(), name="schema"))
