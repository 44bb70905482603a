"""Scan reads. scan_get_for_user is the only way a view, API, report or file stream fetches a scan."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from accounts.roles import is_reviewer
from scans.models import Prediction, Scan


def scan_get_for_user(*, scan_id: uuid.UUID | str, user: AbstractBaseUser, for_owner_action: bool = False) -> Scan:
    """The scan if `user` may see it (its owner, or a reviewer), else Http404.

    "Not yours" and "does not exist" are the same 404, so ids cannot be probed. Actions that
    change a scan (for_owner_action) are for its owner only.
    """
    if not user.is_authenticated:
        raise Http404("No such scan.")
    scans = Scan.objects.select_related("owner")
    if for_owner_action or not is_reviewer(user):
        scans = scans.filter(owner=user)
    scan = scans.filter(pk=scan_id).first()
    if scan is None:
        raise Http404("No such scan.")
    return scan


def scan_latest_prediction(*, scan: Scan) -> Prediction | None:
    return scan.predictions.order_by("-created_at").first()


def _with_latest_prediction(scans: QuerySet) -> QuerySet:
    latest = Prediction.objects.filter(scan=OuterRef("pk")).order_by("-created_at")
    return scans.annotate(
        latest_label=Subquery(latest.values("label")[:1]),
        latest_confidence=Subquery(latest.values("confidence")[:1]),
        latest_abstained=Subquery(latest.values("abstained")[:1]),
    )


@dataclass(frozen=True)
class HistoryFilters:
    label: str = ""
    status: str = ""
    abstained: bool | None = None
    date_from: date | None = None
    date_to: date | None = None
    query: str = ""


def scans_filter(scans: QuerySet, filters: HistoryFilters) -> QuerySet:
    """Annotate scans with their latest prediction and apply the history filters (shared by history and worklist)."""
    scans = _with_latest_prediction(scans)
    if filters.label:
        scans = scans.filter(latest_label=filters.label)
    if filters.status:
        scans = scans.filter(status=filters.status)
    if filters.abstained is not None:
        scans = scans.filter(latest_abstained=filters.abstained)
    zone = timezone.get_current_timezone()
    if filters.date_from:
        scans = scans.filter(created_at__gte=datetime.combine(filters.date_from, time.min, tzinfo=zone))
    if filters.date_to:
        scans = scans.filter(created_at__lte=datetime.combine(filters.date_to, time.max, tzinfo=zone))
    if filters.query:
        scans = scans.filter(Q(patient_reference__icontains=filters.query) | Q(original_name__icontains=filters.query))
    return scans


def scans_history_for_user(*, user: AbstractBaseUser, filters: HistoryFilters | None = None) -> QuerySet:
    """The user's own scans, newest first, with their latest prediction's label/confidence/abstained."""
    return scans_filter(Scan.objects.filter(owner=user), filters or HistoryFilters()).order_by("-created_at", "-pk")


def scans_label_counts_for_user(*, user: AbstractBaseUser) -> dict[str, int]:
    """How many of the user's analysed scans carry each label (latest prediction)."""
    rows = (
        _with_latest_prediction(Scan.objects.filter(owner=user))
        .exclude(latest_label=None)
        .values("latest_label")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {row["latest_label"]: row["count"] for row in rows}
