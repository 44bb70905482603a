"""The CSRF failure view (settings.CSRF_FAILURE_VIEW): a site-styled page, and a stale scan or study review kept."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import REASON_CSRF_TOKEN_MISSING, REASON_NO_CSRF_COOKIE
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse

from reviews.drafts import review_draft_keep, study_review_draft_keep

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
    if match is not None and match.view_name == "studies:review" and _stale(reason):
        study_review_draft_keep(request=request, study_id=match.kwargs["study_id"], data=request.POST)
        messages.warning(request, "Your study review was not saved because the page had expired. "
                                  "Your note is kept below: check it and save the review again.")  # fmt: skip
        return redirect(reverse("studies:detail", args=[match.kwargs["study_id"]]) + "#study-review")
    return render(request, "403_csrf.html", status=403)
