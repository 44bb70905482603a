from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from neuroscan.dashboard import dashboard_for_user


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"dashboard": dashboard_for_user(user=request.user)})


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    return HttpResponsePermanentRedirect(static("favicon.svg"))
