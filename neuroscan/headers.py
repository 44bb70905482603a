"""Response headers every page gets: no caching of what a signed-in person sees, framing refused for static files.

The Content-Security-Policy itself comes from django-csp (settings.CONTENT_SECURITY_POLICY).
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # settings import this module (WhiteNoise's hook): no Django import at run time
    from django.http import HttpRequest, HttpResponse

NO_STORE = "private, no-store"


class NoStoreMiddleware:
    """Pages are built for one person and may show patient data: no browser or proxy may keep a copy.

    A response that chose its own Cache-Control (the anonymous health check, say) keeps it.
    Static files never reach this middleware: WhiteNoise answers them first, with their own
    long-lived caching (they hold no patient data).
    """

    def __init__(self, get_response: "Callable[[HttpRequest], HttpResponse]") -> None:
        self.get_response = get_response

    def __call__(self, request: "HttpRequest") -> "HttpResponse":
        response = self.get_response(request)
        if "Cache-Control" not in response:
            response["Cache-Control"] = NO_STORE
        return response


def static_file_headers(headers, path: str, url: str) -> None:
    """WhiteNoise's hook: static files may not be framed by another site (an SVG or HTML file could be)."""
    headers["X-Frame-Options"] = "DENY"
    headers["Content-Security-Policy"] = "frame-ancestors 'none'"
