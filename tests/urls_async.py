"""The demo's URLs as an ASGI site mounts them: the async session endpoint."""

from django.urls import include, path

from project import urls as demo

urlpatterns = [
    path("api/", include("customer_sessions.urls_async")),
    *(pattern for pattern in demo.urlpatterns if str(pattern.pattern) != "api/"),
]
