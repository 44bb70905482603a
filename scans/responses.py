"""Responses for private files: served only after a view has authorised the caller, never cached."""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def private_file_response(name: str, *, filename: str, content_type: str = "image/png") -> FileResponse:
    """Stream a stored file under a fixed download name; Http404 if storage lost it."""
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404("The stored file is missing.") from None
    return _private(FileResponse(handle, content_type=content_type, filename=filename))


def private_pdf_response(pdf: bytes, *, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _private(response)
