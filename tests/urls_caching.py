"""Views wrapped the ways real sites wrap them in Django's cache framework."""

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import include, path
from django.views.decorators.cache import cache_control, cache_page
from django.views.decorators.vary import vary_on_headers

from customer_sessions.api.views import CustomerSessionView
from customer_sessions.services import acreate_customer_session, create_customer_session

TIMEOUT = 600


def page(request: HttpRequest) -> HttpResponse:
    return render(request, "caching/page.html")


def template_page(request: HttpRequest) -> TemplateResponse:
    return TemplateResponse(request, "caching/page.html")


def python_api(request: HttpRequest) -> JsonResponse:
    session = create_customer_session(request.user)  # type: ignore[arg-type]
    return JsonResponse({"client_secret": session.client_secret})


async def async_python_api(request: HttpRequest) -> JsonResponse:
    session = await acreate_customer_session(await request.auser())  # type: ignore[arg-type]
    return JsonResponse({"client_secret": session.client_secret})


def own_vary(request: HttpRequest) -> HttpResponse:
    response = render(request, "caching/page.html")
    response.headers["Vary"] = "Accept-Language"
    return response


def no_secret(request: HttpRequest) -> HttpResponse:
    import secrets

    return HttpResponse(f"no-secret {secrets.token_hex(8)}")


urlpatterns = [
    path("no-secret/", cache_page(TIMEOUT)(no_secret)),
    path("outside/", cache_page(TIMEOUT)(login_required(page))),
    path("inside/", login_required(cache_page(TIMEOUT)(page))),
    path("template-response/", cache_page(TIMEOUT)(login_required(template_page))),
    path(
        "public/",
        cache_page(TIMEOUT)(cache_control(public=True, max_age=TIMEOUT)(login_required(page))),
    ),
    path("own-vary/", cache_page(TIMEOUT)(vary_on_headers("Accept-Language")(own_vary))),
    path("python-api/", cache_page(TIMEOUT)(login_required(python_api))),
    path("async-python-api/", cache_page(TIMEOUT)(login_required(async_python_api))),
    path("endpoint/", cache_page(TIMEOUT)(CustomerSessionView.as_view())),
    path("plain/", login_required(page)),
    path("api/", include("customer_sessions.urls")),
    path("accounts/login/", LoginView.as_view(), name="login"),
]
