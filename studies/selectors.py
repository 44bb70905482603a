"""Study reads. study_get_for_user is the only way a view, API or report fetches a study."""

import uuid
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from accounts.roles import is_reviewer
from scans.models import ScanStatus
from studies.models import Series, Study, StudyReview, StudySlice


def study_get_for_user(*, study_id: uuid.UUID | str, user: AbstractBaseUser, for_owner_action: bool = False) -> Study:
    """The study if `user` may see it (its owner, or a reviewer, as for scans), else Http404.

    "Not yours" and "does not exist" are the same 404, so ids cannot be probed.
    """
    if not user.is_authenticated:
        raise Http404("No such study.")
    studies = Study.objects.select_related("owner")
    if for_owner_action or not is_reviewer(user):
        studies = studies.filter(owner=user)
    study = studies.filter(pk=study_id).first()
    if study is None:
        raise Http404("No such study.")
    return study


def _with_progress(studies: QuerySet) -> QuerySet:
    scans = "series__slices__scan__status"
    return studies.annotate(
        slice_total=Count("series__slices"),
        slice_finished=Count("series__slices", filter=Q(**{f"{scans}__in": [ScanStatus.DONE, ScanStatus.FAILED]})),
        slice_failed=Count("series__slices", filter=Q(**{scans: ScanStatus.FAILED})),
    )


def studies_for_user(*, user: AbstractBaseUser) -> QuerySet:
    """The user's own studies, newest first, with their progress (slice_total / slice_finished / slice_failed)."""
    return _with_progress(Study.objects.filter(owner=user)).order_by("-created_at", "-pk")


@dataclass(frozen=True)
class Progress:
    total: int
    finished: int  # done or failed
    failed: int

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.finished == self.total


def study_progress(*, study: Study) -> Progress:
    row = _with_progress(Study.objects.filter(pk=study.pk)).values("slice_total", "slice_finished", "slice_failed").get()
    return Progress(total=row["slice_total"], finished=row["slice_finished"], failed=row["slice_failed"])


def study_series(*, study: Study) -> list[Series]:
    """The study's series in order, each with `.ordered_slices`: its StudySlices (and their scans) in display order."""
    series = list(Series.objects.filter(study=study).order_by("number"))
    slices = StudySlice.objects.filter(series__study=study).select_related("scan").order_by("series__number", "position")
    by_series: dict[int, list[StudySlice]] = {row.pk: [] for row in series}
    for item in slices:
        by_series[item.series_id].append(item)
    for row in series:
        row.ordered_slices = by_series[row.pk]
    return series


def study_reviews(*, study: Study) -> list[StudyReview]:
    """The study's reviews, oldest first; the last one is the standing verdict."""
    return list(study.reviews.select_related("reviewer").order_by("created_at", "id"))
