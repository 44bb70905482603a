"""Scan reads. scan_get_for_user is the only way a view, API, report or file stream fetches a scan."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.roles import is_reviewer
from scans.answer import answers_counted_as_label, filter_by_final_label, scans_with_answers
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


def scans_get_many_for_user(*, scan_ids: list[str], user: AbstractBaseUser) -> QuerySet:
    """Of these ids, the scans `user` may see (the same rule as scan_get_for_user); others are left out."""
    if not user.is_authenticated:
        return Scan.objects.none()
    scans = Scan.objects.select_related("owner").filter(pk__in=scan_ids)
    return scans if is_reviewer(user) else scans.filter(owner=user)


def single_uploads() -> QuerySet:
    """Scans uploaded on their own, not as a slice of a study: what history, its counts, the worklist,
    the scans API list and the upload quota are about. A study's slices are listed with their study
    and reached through it (scan_get_for_user still serves them, by the same rule as any scan)."""
    return Scan.objects.filter(part_of_study=False)


def scan_latest_prediction(*, scan: Scan) -> Prediction | None:
    return scan.predictions.order_by("-created_at").first()


@dataclass(frozen=True)
class HistoryFilters:
    label: str = ""  # the final label (scans.answer): the standing review's, else the AI's
    state: str = ""  # one of scans.answer.AnswerState
    date_from: date | None = None
    date_to: date | None = None
    query: str = ""
    ai_label: str = ""  # the AI's own latest label, as recorded (the API's filter for the record)
    abstained: bool | None = None  # the AI's own abstention, as recorded
    status: str = ""  # the scan's processing status (the API's filter; pages filter by state)


def scans_filter(scans: QuerySet, filters: HistoryFilters) -> QuerySet:
    """Annotate scans with their answer (scans.answer) and apply the history filters (shared by history and worklist)."""
    scans = scans_with_answers(scans)
    if filters.label:
        scans = filter_by_final_label(scans, filters.label)
    if filters.state:
        scans = scans.filter(answer_state=filters.state)
    if filters.status:
        scans = scans.filter(status=filters.status)
    if filters.ai_label:
        scans = scans.filter(latest_label=filters.ai_label)
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
    """The user's own single uploads, newest first, annotated with their answer and latest AI prediction."""
    return scans_filter(single_uploads().filter(owner=user), filters or HistoryFilters()).order_by("-created_at", "-pk")


def scans_label_counts_for_user(*, user: AbstractBaseUser) -> dict[str, int]:
    """How many of the user's analysed single uploads carry each final label (refusals and doubts are not counted)."""
    rows = (
        answers_counted_as_label(scans_with_answers(single_uploads().filter(owner=user)))
        .values("answer_label")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {row["answer_label"]: row["count"] for row in rows}


def scans_state_counts_for_user(*, user: AbstractBaseUser) -> dict[str, int]:
    """How many of the user's single uploads are in each answer state (scans.answer.AnswerState)."""
    rows = scans_with_answers(single_uploads().filter(owner=user)).values("answer_state").annotate(count=Count("pk")).order_by()
    return {row["answer_state"]: row["count"] for row in rows}


def scan_same_file_earlier(*, scan: Scan) -> Scan | None:
    """The owner's most recent earlier scan of the very same file (same bytes sent, else same stored file)."""
    same = {"upload_sha256": scan.upload_sha256} if scan.upload_sha256 else {"sha256": scan.sha256}
    return (
        Scan.objects.filter(owner_id=scan.owner_id, created_at__lte=scan.created_at, **same)
        .exclude(pk=scan.pk)
        .order_by("-created_at")
        .first()
    )
