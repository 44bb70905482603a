"""Answers for requests the portal cannot serve: the database is down (503), an upload without a length (411).

Django calls server_error (handler500) for any exception no view answered; when that exception is
the database's, the portal is not broken, only unavailable for a while: 503 with Retry-After, so
clients and load balancers wait and try again. The page is plain HTML built without a template:
templates would read the session and the user, i.e. the database that is down.
"""

import html
import logging
import sys

from django.db import DatabaseError, InterfaceError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import server_error as django_server_error

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
_UNAVAILABLE = "The portal's database is not reachable at the moment. Nothing was changed. Please try again in a minute."
_LENGTH_REQUIRED = (
    "Uploads must say their size (a Content-Length header); a chunked request body is not read. "
    "Send the file again as an ordinary multipart upload."
)


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def _plain_page(status: int, title: str, message: str) -> HttpResponse:
    body = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)} · NeuroScan</title>"
            f"</head><body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>")  # fmt: skip
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


def server_error(request: HttpRequest) -> HttpResponse:
    error = sys.exc_info()[1]
    if isinstance(error, (DatabaseError, InterfaceError)):
        logger.error("Database unavailable (%s): answered 503.", type(error).__name__)
        if _wants_json(request):
            response = JsonResponse({"error": _UNAVAILABLE}, status=503)
        else:
            response = _plain_page(503, "Temporarily unavailable", _UNAVAILABLE)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
    return django_server_error(request)


class LengthRequiredMiddleware:
    """A chunked body (Transfer-Encoding without Content-Length) reaches Django as empty: say so with 411,
    instead of answering "choose a file" about a file that was sent."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and request.method in ("POST", "PUT", "PATCH") and not request.META.get("CONTENT_LENGTH"):
            if _wants_json(request):
                return JsonResponse({"error": _LENGTH_REQUIRED}, status=411)
            return _plain_page(411, "Length required", _LENGTH_REQUIRED)
        return self.get_response(request)
