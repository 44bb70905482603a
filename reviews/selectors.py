"""Review reads: a scan's review history, the reviewers' worklist, agreement statistics."""

from dataclasses import dataclass

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When

from ml.config import CLASS_NAMES, NO_TUMOUR_CLASS
from reviews.models import Review, ReviewDecision
from scans.models import Scan, ScanStatus
from scans.selectors import HistoryFilters, scans_filter


def reviews_for_scan(*, scan: Scan) -> list[Review]:
    """Oldest first; the last one is the standing verdict."""
    return list(scan.reviews.select_related("reviewer").order_by("created_at", "id"))


def worklist_for_reviewer(*, filters: HistoryFilters | None = None) -> QuerySet:
    """Finished scans of every user with no review yet: abstained first, then tumour findings, then the rest."""
    unreviewed = Scan.objects.filter(status=ScanStatus.DONE).exclude(Exists(Review.objects.filter(scan=OuterRef("pk"))))
    scans = scans_filter(unreviewed.select_related("owner"), filters or HistoryFilters())
    priority = Case(
        When(latest_abstained=True, then=Value(0)),
        When(latest_label__in=[c for c in CLASS_NAMES if c != NO_TUMOUR_CLASS], then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return scans.annotate(priority=priority).order_by("priority", "-created_at", "-pk")


@dataclass(frozen=True)
class Agreement:
    ai_label: str
    reviewed: int
    confirmed: int

    @property
    def rate(self) -> float | None:
        return self.confirmed / self.reviewed if self.reviewed else None


def agreement_by_class() -> list[Agreement]:
    """How often people confirmed the AI, per AI label, counting each scan's standing review only."""
    standing_pk = Review.objects.filter(scan=OuterRef("scan")).order_by("-created_at", "-id").values("pk")[:1]
    counts = {
        row["ai_label"]: row
        for row in Review.objects.filter(pk=Subquery(standing_pk))
        .values("ai_label")
        .annotate(reviewed=Count("pk"), confirmed=Count("pk", filter=Q(decision=ReviewDecision.CONFIRMED)))
        .order_by()
    }
    return [
        Agreement(label, counts.get(label, {}).get("reviewed", 0), counts.get(label, {}).get("confirmed", 0))
        for label in CLASS_NAMES
    ]
