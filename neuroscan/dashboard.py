"""What the home page shows a signed-in user: a read across scans and reviews (a selector)."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser

from accounts.roles import is_reviewer
from reviews.selectors import worklist_for_reviewer
from scans.answer import AnswerState, answer_of
from scans.models import Scan, ScanStatus
from scans.selectors import scans_history_for_user

RECENT_SCANS = 6


@dataclass(frozen=True)
class Dashboard:
    recent: list[Scan]
    total: int
    in_progress: int  # queued or being analysed
    needs_review: int  # the answer's state (scans.answer): the model was not sure and nobody has reviewed it yet
    failed: int
    worklist: int | None  # for reviewers: everyone's finished scans waiting for a review


def dashboard_for_user(*, user: AbstractBaseUser) -> Dashboard:
    own = scans_history_for_user(user=user)
    recent = list(own[:RECENT_SCANS])
    for scan in recent:
        scan.answer = answer_of(scan)
    return Dashboard(
        recent=recent,
        total=own.count(),
        in_progress=own.filter(status__in=(ScanStatus.QUEUED, ScanStatus.PROCESSING)).count(),
        needs_review=own.filter(answer_state=AnswerState.NEEDS_REVIEW).count(),
        failed=own.filter(status=ScanStatus.FAILED).count(),
        worklist=worklist_for_reviewer().count() if is_reviewer(user) else None,
    )
