"""The one way a page reaches a private object (a scan, a study): through its selector, before anything else."""

import functools
from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed

from accounts.audit import AuditAction, AuditOutcome, audit_record


def owned_object_view(fetch: Callable, *, object_type: str, id_name: str, methods: tuple[str, ...]) -> Callable:
    """A view decorator: `fetch(object_id, user)` (a selector that raises Http404 for a stranger) runs
    BEFORE the method check, so a stranger gets the same 404 whatever the method, the refusal is on the
    record, and no view can forget the owner check. The view receives the object instead of its id
    (the URL's `id_name`)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            object_id = kwargs.pop(id_name)
            try:
                owned = fetch(object_id, request.user)
            except Http404:
                # Not theirs, or no such object: the same 404 either way, but on the record.
                audit_record(action=AuditAction.ACCESS_DENIED, actor=request.user, request=request,
                             object_type=object_type, object_id=object_id, outcome=AuditOutcome.DENIED)  # fmt: skip
                raise
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            return view(request, owned, *args, **kwargs)

        return wrapper

    return decorator
