"""A review that could not be saved (stale page, incomplete form) comes back pre-filled, note included.

The draft lives in the user's session, keyed by scan or study, until the review form shows it once.
"""

from django.http import HttpRequest

_KEY = "review_drafts"
_SCAN_FIELDS = ("decision", "override_label", "note")
_STUDY_FIELDS = ("decision", "override_finding", "note")


def review_draft_keep(*, request: HttpRequest, scan_id, data) -> None:
    _keep(request, str(scan_id), data, _SCAN_FIELDS)


def review_draft_take(*, request: HttpRequest | None, scan_id) -> dict:
    """The kept draft for this scan (and forget it), or {}."""
    return _take(request, str(scan_id))


def study_review_draft_keep(*, request: HttpRequest, study_id, data) -> None:
    _keep(request, f"study:{study_id}", data, _STUDY_FIELDS)


def study_review_draft_take(*, request: HttpRequest | None, study_id) -> dict:
    """The kept draft for this study (and forget it), or {}."""
    return _take(request, f"study:{study_id}")


def _keep(request: HttpRequest, key: str, data, fields: tuple[str, ...]) -> None:
    drafts = request.session.get(_KEY, {})
    drafts[key] = {name: str(data.get(name, ""))[:2000] for name in fields}
    request.session[_KEY] = drafts


def _take(request: HttpRequest | None, key: str) -> dict:
    if request is None or not hasattr(request, "session"):
        return {}
    drafts = request.session.get(_KEY, {})
    draft = drafts.pop(key, None)
    if draft is not None:
        request.session[_KEY] = drafts
    return draft or {}
