from django.urls import path

from customer_sessions.api.async_views import AsyncCustomerSessionView
from customer_sessions.api.views import CustomerSessionView

from . import views

urlpatterns = [
    # This app: the endpoint as customer_sessions.urls and customer_sessions.urls_async serve it.
    path("api/customer-session/", CustomerSessionView.as_view()),
    path("api/async/customer-session/", AsyncCustomerSessionView.as_view()),
    # What it is compared with.
    path("bench/bare/", views.BareSessionView.as_view()),
    path("bench/bare-async/", views.bare_async_session),
    path("bench/wait-async/", views.wait_async),
    path("bench/naive/", views.naive_session),
    path("bench/page/", views.page, {"template": "bench/page.html"}),
    path("bench/page-tag/", views.page, {"template": "bench/page_tag.html"}),
    path("bench/stats/", views.stats),
]
