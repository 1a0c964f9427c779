from django.urls import path

from . import djstripe_views
from .views import stats

urlpatterns = [
    path("bench/djstripe/", djstripe_views.DjStripeSessionView.as_view()),
    path("bench/stats/", stats),
]
