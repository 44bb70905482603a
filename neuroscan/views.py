from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from neuroscan.dashboard import dashboard_for_user


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"dashboard": dashboard_for_user(user=request.user)})
