"""A review that could not be saved (stale page, incomplete form) comes back pre-filled, note included.

The draft lives in the user's session, keyed by scan, until the review panel shows it once.
"""

from django.http import HttpRequest

_KEY = "review_drafts"
_FIELDS = ("decision", "override_label", "note")


def review_draft_keep(*, request: HttpRequest, scan_id, data) -> None:
    drafts = request.session.get(_KEY, {})
    drafts[str(scan_id)] = {name: str(data.get(name, ""))[:2000] for name in _FIELDS}
    request.session[_KEY] = drafts


def review_draft_take(*, request: HttpRequest | None, scan_id) -> dict:
    """The kept draft for this scan (and forget it), or {}."""
    if request is None or not hasattr(request, "session"):
        return {}
    drafts = request.session.get(_KEY, {})
    draft = drafts.pop(str(scan_id), None)
    if draft is not None:
        request.session[_KEY] = drafts
    return draft or {}
