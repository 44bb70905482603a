"""A study's summary, from its slices' answers (scans.answer: the one notion of a scan's answer).

The study-level state, in order of what a reader must see first:
  tumour_finding  some slice's answer is a tumour class;
  needs_review    else, some slice needs a person's reading;
  no_tumour       else, every analysed slice's answer is "no tumour" (at least one was analysed);
  not_analysed    no slice could be analysed (all refused as not a brain MRI, or failed).
Plus: the slices with the highest AI probability of each tumour class, the counts per label and
per state, how many slices a person reviewed, and the model version(s). The AI's probabilities
are its record; labels and states are the answers (a review counts), as everywhere else.
"""

from django.db.models import OuterRef, Subquery

from ml.config import CLASS_NAMES, NO_TUMOUR_CLASS
from scans.answer import SOURCE_REVIEWER, TUMOUR_CLASSES, AnswerState, scans_with_answers
from scans.models import Prediction, Scan

TOP_SLICES_PER_CLASS = 3


class StudyState:
    TUMOUR_FINDING = "tumour_finding"
    NEEDS_REVIEW = "needs_review"
    NO_TUMOUR = "no_tumour"
    NOT_ANALYSED = "not_analysed"

    NAMES = {
        TUMOUR_FINDING: "Tumour finding",
        NEEDS_REVIEW: "Needs review",
        NO_TUMOUR: "No tumour on every analysed slice",
        NOT_ANALYSED: "Not analysed",
    }
    VALUES = list(NAMES)


def study_slices_with_answers(*, study):
    """The study's slice scans in series and slice order, with their answers and the AI's probabilities."""
    latest = Prediction.objects.filter(scan=OuterRef("pk")).order_by("-created_at", "-pk")
    scans = Scan.objects.filter(study_slice__series__study=study)
    return (
        scans_with_answers(scans)
        .annotate(
            latest_probabilities=Subquery(latest.values("probabilities")[:1]),
            latest_model_version=Subquery(latest.values("model_version")[:1]),
        )
        .select_related("study_slice__series")
        .order_by("study_slice__series__number", "study_slice__position")
    )


def tumour_probability(probabilities: dict | None) -> float | None:
    """The AI's summed tumour probability, 1 - p(no tumour): what the strip charts draw."""
    if not probabilities or NO_TUMOUR_CLASS not in probabilities:
        return None
    return max(0.0, min(1.0, 1.0 - float(probabilities[NO_TUMOUR_CLASS])))


def study_state(states_and_labels: list[tuple[str, str | None]]) -> str:
    """[(answer state, final label)] of every slice -> the study-level state."""
    analysed = [label for state, label in states_and_labels if state == AnswerState.ANALYSED]
    if any(label in TUMOUR_CLASSES for label in analysed):
        return StudyState.TUMOUR_FINDING
    if any(state == AnswerState.NEEDS_REVIEW for state, _label in states_and_labels):
        return StudyState.NEEDS_REVIEW
    if analysed:
        return StudyState.NO_TUMOUR
    return StudyState.NOT_ANALYSED


def study_summary(*, study) -> dict:
    """The summary JSON stored on the study when its last slice has finished."""
    slices = list(study_slices_with_answers(study=study))
    label_counts = {name: 0 for name in CLASS_NAMES}
    state_counts = {state: 0 for state in (AnswerState.ANALYSED, AnswerState.NEEDS_REVIEW, AnswerState.NOT_ANALYSED,
                                           AnswerState.FAILED)}  # fmt: skip
    candidates = []
    for scan in slices:
        state_counts[scan.answer_state] = state_counts.get(scan.answer_state, 0) + 1
        if scan.answer_state == AnswerState.ANALYSED and scan.answer_label in label_counts:
            label_counts[scan.answer_label] += 1
        # A refusal carries no label and its probabilities are no finding: only read slices rank.
        if scan.answer_state in (AnswerState.ANALYSED, AnswerState.NEEDS_REVIEW) and scan.latest_probabilities:
            candidates.append(scan)
    top = {}
    for name in TUMOUR_CLASSES:
        ranked = sorted(candidates, key=lambda scan: -float(scan.latest_probabilities.get(name, 0.0)))
        top[name] = [
            {
                "scan_id": str(scan.id),
                "series": scan.study_slice.series.number,
                "position": scan.study_slice.position,
                "probability": round(float(scan.latest_probabilities.get(name, 0.0)), 6),
            }
            for scan in ranked[:TOP_SLICES_PER_CLASS]
        ]
    return {
        "state": study_state([(scan.answer_state, scan.answer_label) for scan in slices]),
        "slices": len(slices),
        "label_counts": label_counts,
        "state_counts": state_counts,
        "top_slices": top,
        "reviewed_slices": sum(1 for scan in slices if scan.answer_source == SOURCE_REVIEWER),
        "model_versions": sorted({scan.latest_model_version for scan in slices if scan.latest_model_version}),
    }


def label_counts_in_order(summary: dict) -> list[tuple[str, int]]:
    """A stored summary's counts per label, in CLASS_NAMES order: PostgreSQL's jsonb gives a JSON
    object's keys back in its own order (shortest first), not as they were written."""
    counts = summary["label_counts"]
    return [(label, counts[label]) for label in CLASS_NAMES if label in counts]
