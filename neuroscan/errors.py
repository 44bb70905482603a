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


# The review forms whose words a stale page must not lose: the draft keeper, the URL's id, what the
# warning calls it, and the page the reviewer goes back to.
_KEPT_REVIEWS = {
    "reviews:submit": (review_draft_keep, "scan_id", "Your review", lambda scan_id: reverse("scans:detail", args=[scan_id])),
    "studies:review": (study_review_draft_keep, "study_id", "Your study review",
                       lambda study_id: reverse("studies:detail", args=[study_id]) + "#study-review"),  # fmt: skip
}


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        match = None
    kept = _KEPT_REVIEWS.get(match.view_name) if match is not None else None
    if kept is not None and _stale(reason):
        # Nothing is saved from an unverified form; the reviewer's words are kept for them to send again.
        keep, id_name, what, page = kept
        object_id = match.kwargs[id_name]
        keep(request=request, data=request.POST, **{id_name: object_id})
        messages.warning(request, f"{what} was not saved because the page had expired. "
                                  "Your note is kept below: check it and save the review again.")  # fmt: skip
        return redirect(page(object_id))
    return render(request, "403_csrf.html", status=403)
