from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

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
    path("api/", include("customer_sessions.urls")),
    path("admin/", admin.site.urls),
]

if settings.SCHEMA:
    from drf_spectacular.views import SpectacularAPIView

    urlpatterns.append(path("api/schema/", SpectacularAPIView.as_view(), name="schema"))
