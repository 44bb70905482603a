"""Review reads: a scan's review history, the reviewers' worklist, agreement statistics.

Worklist and agreement read each scan's answer from scans.answer, as every page does.
"""

from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery

from ml.wording import NOT_MRI
from reviews.models import Review
from scans.answer import ANSWER_KEYS, AnswerState, answer_key, worklist_order
from scans.models import Scan, ScanStatus
from scans.selectors import HistoryFilters, scans_filter, single_uploads

# What the worklist lists: every finished scan nobody has reviewed, refusals included (the last group),
# because a slice the model refused may still be a brain MRI a person can read.
WORKLIST_STATES = [AnswerState.NEEDS_REVIEW, AnswerState.ANALYSED, AnswerState.NOT_ANALYSED]
WORKLIST_GROUPS = ["Needs review", "Tumour findings", "No tumour", "Not analysed"]  # by worklist_priority


def reviews_for_scan(*, scan: Scan) -> list[Review]:
    """Oldest first; the last one is the standing verdict."""
    return list(scan.reviews.select_related("reviewer").order_by("created_at", "id"))


def _unreviewed() -> QuerySet:
    # Single uploads only: a study's slices are read, and reviewed, with their study.
    return single_uploads().filter(status=ScanStatus.DONE).exclude(Exists(Review.objects.filter(scan=OuterRef("pk"))))


def worklist_for_reviewer(*, filters: HistoryFilters | None = None) -> QuerySet:
    """Unreviewed finished scans of every user, by risk (scans.answer.worklist_order)."""
    return worklist_order(scans_filter(_unreviewed().select_related("owner"), filters or HistoryFilters()))


def worklist_next(*, after: Scan) -> Scan | None:
    """The first scan of the worklist other than `after` (for "Save and next")."""
    return worklist_for_reviewer().exclude(pk=after.pk).first()


def worklist_counts() -> list[tuple[str, int]]:
    """(group name, count) for each worklist group, in worklist order, zeros included."""
    rows = worklist_for_reviewer().values("worklist_priority").annotate(count=Count("pk")).order_by()
    counts = {row["worklist_priority"]: row["count"] for row in rows}
    return [(name, counts.get(priority, 0)) for priority, name in enumerate(WORKLIST_GROUPS)]


@dataclass(frozen=True)
class Agreement:
    ai_answer: str  # a class name, or "not_analysed" (scans.answer.ANSWER_KEYS)
    reviewed: int
    agreed: int  # the final answer is the AI's

    @property
    def rate(self) -> float | None:
        return self.agreed / self.reviewed if self.reviewed else None

    @property
    def percent(self) -> int | None:
        return None if self.rate is None else round(100 * self.rate)


@dataclass(frozen=True)
class ReviewedAnswer:
    model_version: str
    ai_answer: str  # what the model said about the reviewed prediction
    final_answer: str  # the scan's answer now (scans.answer)


def reviewed_answers() -> list[ReviewedAnswer]:
    """Every reviewed scan once: the AI's answer on the reviewed prediction, and the scan's final answer."""
    standing = Review.objects.filter(scan=OuterRef("pk")).order_by("-created_at", "-id")
    scans = scans_filter(Scan.objects.filter(Exists(Review.objects.filter(scan=OuterRef("pk")))), HistoryFilters())
    rows = scans.annotate(
        reviewed_model_version=Subquery(standing.values("model_version")[:1]),
        reviewed_ai_label=Subquery(standing.values("ai_label")[:1]),
        reviewed_ai_kind=Subquery(standing.values("prediction__abstain_kind")[:1]),
    ).values_list("reviewed_model_version", "reviewed_ai_label", "reviewed_ai_kind", "answer_state", "answer_label")
    return [
        ReviewedAnswer(
            model_version=version,
            ai_answer=answer_key(label=ai_label, refused=ai_kind == NOT_MRI),
            final_answer=answer_key(label=final_label, refused=state == AnswerState.NOT_ANALYSED),
        )
        for version, ai_label, ai_kind, state, final_label in rows
    ]


def agreement_by_class(answers: list[ReviewedAnswer] | None = None) -> list[Agreement]:
    """How often the final answer is the AI's, per AI answer, counting each reviewed scan once."""
    answers = reviewed_answers() if answers is None else answers
    reviewed = Counter(answer.ai_answer for answer in answers)
    agreed = Counter(answer.ai_answer for answer in answers if answer.ai_answer == answer.final_answer)
    return [Agreement(key, reviewed[key], agreed[key]) for key in ANSWER_KEYS]


def confusion_by_model_version(answers: list[ReviewedAnswer] | None = None) -> dict[str, dict[tuple[str, str], int]]:
    """{model version: {(AI answer, final answer): count}}, newest version name last."""
    answers = reviewed_answers() if answers is None else answers
    tables: dict[str, Counter] = {}
    for answer in answers:
        tables.setdefault(answer.model_version, Counter())[(answer.ai_answer, answer.final_answer)] += 1
    return {version: dict(tables[version]) for version in sorted(tables)}
