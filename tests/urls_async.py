"""The suite's site as an ASGI site mounts the app: the async session endpoint."""

from django.urls import include, path

from . import urls

urlpatterns = [
    path("api/", include("customer_sessions.urls_async")),
    *(pattern for pattern in urls.urlpatterns if str(pattern.pattern) != "api/"),
]
