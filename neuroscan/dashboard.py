"""What the home page shows a signed-in user: a read across scans and reviews (a selector)."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef

from accounts.roles import is_reviewer
from reviews.models import Review
from reviews.selectors import worklist_for_reviewer
from scans.labels import label_name
from scans.models import Scan, ScanStatus
from scans.selectors import scans_history_for_user

RECENT_SCANS = 6


@dataclass(frozen=True)
class Dashboard:
    recent: list[Scan]
    total: int
    in_progress: int  # queued or being analysed
    needs_review: int  # the model was not sure and nobody has reviewed it yet
    failed: int
    worklist: int | None  # for reviewers: everyone's finished scans waiting for a review


def dashboard_for_user(*, user: AbstractBaseUser) -> Dashboard:
    own = scans_history_for_user(user=user)
    recent = list(own[:RECENT_SCANS])
    for scan in recent:
        scan.latest_label_name = label_name(scan.latest_label)
    reviewed = Exists(Review.objects.filter(scan=OuterRef("pk")))
    return Dashboard(
        recent=recent,
        total=own.count(),
        in_progress=own.filter(status__in=(ScanStatus.QUEUED, ScanStatus.PROCESSING)).count(),
        needs_review=own.filter(status=ScanStatus.DONE, latest_abstained=True).exclude(reviewed).count(),
        failed=own.filter(status=ScanStatus.FAILED).count(),
        worklist=worklist_for_reviewer().count() if is_reviewer(user) else None,
    )
