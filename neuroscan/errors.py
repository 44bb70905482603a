"""The CSRF failure view (settings.CSRF_FAILURE_VIEW): a site-styled page, and a stale review kept."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import REASON_CSRF_TOKEN_MISSING, REASON_NO_CSRF_COOKIE
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve

from reviews.drafts import review_draft_keep

# A token that is missing or out of date: the page was stale (a new log-in rotated the token).
# A bad Origin or Referer is checked before these and never keeps anything.
def _stale(reason: str) -> bool:
    # "CSRF token from POST incorrect." / "... has incorrect length." (Django's _bad_token_message)
    return reason in (REASON_NO_CSRF_COOKIE, REASON_CSRF_TOKEN_MISSING) or reason.startswith("CSRF token from ")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        match = None
    if match is not None and match.view_name == "reviews:submit" and _stale(reason):
        # Nothing is saved from an unverified form; the reviewer's words are kept for them to send again.
        review_draft_keep(request=request, scan_id=match.kwargs["scan_id"], data=request.POST)
        messages.warning(request, "Your review was not saved because the page had expired. "
                                  "Your note is kept below: check it and save the review again.")  # fmt: skip
        return redirect("scans:detail", scan_id=match.kwargs["scan_id"])
    return render(request, "403_csrf.html", status=403)
