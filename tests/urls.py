"""The suite's site: the app's URLs, a page with the tag and one without, a login page."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView
from django.urls import include, path
from django.views.generic import TemplateView

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path(
        "checkout/",
        login_required(TemplateView.as_view(template_name="checkout.html")),
        name="checkout",
    ),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("api/", include("customer_sessions.urls")),
    path("admin/", admin.site.urls),
]

if settings.SCHEMA:
    from drf_spectacular.views import SpectacularAPIView

    urlpatterns.append(path("api/schema/", SpectacularAPIView.as_view(), name="schema"))
