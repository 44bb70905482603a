"""Every API error is JSON with an `error` key: DRF's exceptions, Django's 404s, unknown API URLs."""

import logging

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

logger = logging.getLogger(__name__)


def _message(detail) -> str:
    """One sentence for `error`, from DRF's detail (a string, a list or a dict of field errors)."""
    if isinstance(detail, dict):
        return "Invalid input."
    if isinstance(detail, list):
        return " ".join(str(item) for item in detail) or "Invalid input."
    return str(detail)


def exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's EXCEPTION_HANDLER: {"error": "..."} (+ "fields" for validation errors) with the right status.

    An unexpected exception is logged with its traceback and answered with a JSON 500 that
    tells nothing about the server's insides.
    """
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return Response({"error": "The request is too large."}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    elif isinstance(exc, SuspiciousOperation):  # e.g. too many fields or files in one request
        logger.warning("API request refused: %s", type(exc).__name__)
        return Response({"error": "Bad request."}, status=status.HTTP_400_BAD_REQUEST)
    if not isinstance(exc, exceptions.APIException):
        logger.exception("Unexpected error in the API (%s).", type(exc).__name__)
        set_rollback()
        return Response({"error": "Internal server error."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    body: dict = {"error": _message(exc.detail)}
    if isinstance(exc.detail, dict):
        body["fields"] = exc.detail
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


@csrf_exempt  # a POST with a stray cookie must get the JSON 404 too, not CSRF's HTML 403
@login_not_required
def not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Any URL under /api/ that no endpoint matches, whatever the method."""
    return JsonResponse({"error": "Not found."}, status=404)
