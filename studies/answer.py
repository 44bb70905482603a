"""A study's answer, the thing a clinician reads first: computed here and nowhere else (as scans.answer for a scan).

- finding: the standing (latest) study review's, if a person reviewed the study; else the finding
  its slices' answers add up to now (studies.summary.study_state over scans.answer, so a slice's
  review counts as soon as it is given, not only if it came before the summary was written);
- source: the reviewer (who, when) or the slices (the AI's answers, some perhaps reviewed);
- while slices are analysed (a new study, or a slice retried after the summary) an unreviewed
  study has no answer yet ("analysing"); a reviewed one keeps its review's finding, since the
  reviewed answer is the answer, and says that slices are being analysed again;
- the stored summary (Study.summary) stays the record of what was summarised, once, when the last
  slice finished: pages show it beside the answer, never in its place.
"""

from dataclasses import dataclass

from neuroscan.timefmt import format_datetime
from reviews.models import ReviewDecision
from scans.answer import SOURCE_AI, SOURCE_REVIEWER
from studies.models import Study, StudyFinding, StudyReview
from studies.summary import StudyState, study_summary

ANALYSING = "analysing"  # not every slice has finished and nobody reviewed the study: there is no answer yet
_DECISION_WORDS = {ReviewDecision.CONFIRMED: "confirmed", ReviewDecision.OVERRIDDEN: "overridden",
                   ReviewDecision.UNUSABLE: "marked unusable"}  # fmt: skip


def finding_name(finding: str | None) -> str:
    if finding == ANALYSING:
        return "Analysing"
    return StudyState.NAMES.get(finding or "", finding or "")


# What an override may name (the form's and the API's choices); "not analysed" is the "unusable" decision's.
FINDING_CHOICES = [(value, finding_name(value)) for value in (StudyFinding.TUMOUR_FINDING.value, StudyFinding.NO_TUMOUR.value)]


@dataclass(frozen=True)
class StudyAnswer:
    finding: str  # a StudyState value, or ANALYSING
    source: str | None  # SOURCE_REVIEWER or SOURCE_AI; None while analysing
    slices_finding: str | None  # what the slices' answers add up to now (what a review confirms or overrides)
    recorded_finding: str | None  # the stored summary's state, as written when the last slice finished
    current_summary: dict | None  # the summary of the slices' answers now (studies.summary.study_summary)
    reviewed_slices: int = 0  # slices whose own answer is a person's
    review: StudyReview | None = None  # the standing study review
    analysing: bool = False  # some slice is queued or being analysed (no summary now)

    @property
    def reviewed(self) -> bool:
        return self.source == SOURCE_REVIEWER

    @property
    def headline(self) -> str:
        if self.finding == StudyState.NOT_ANALYSED and self.review and self.review.decision == ReviewDecision.UNUSABLE:
            return "Not analysed — a reviewer marked this study as unusable"
        return finding_name(self.finding)

    @property
    def byline(self) -> str:
        """Who gave the answer and what the slices said: 'reviewed by bob, 1 Dec 18:33; the slices' answers say …'."""
        if self.finding == ANALYSING:
            return ""
        if self.reviewed:
            who = f"{self.review.reviewer.get_username()}, {format_datetime(self.review.created_at)}"
            verb = "confirmed" if self.review.decision == ReviewDecision.CONFIRMED else "reviewed"
            if self.analysing:
                return f"{verb} by {who}; some slices are being analysed again"
            return f"{verb} by {who}; the slices' answers say {finding_name(self.slices_finding)}"
        people = f"; {self.reviewed_slices} slice{'s' if self.reviewed_slices != 1 else ''} reviewed by a person" if self.reviewed_slices else ""
        return f"from the slices' answers (AI{people}); the study has not been reviewed by a person yet"

    @property
    def summary_changed(self) -> bool:
        """The slices' answers (later slice reviews) no longer add up to the recorded summary's state."""
        return self.recorded_finding is not None and self.slices_finding != self.recorded_finding


def study_answer(*, study: Study) -> StudyAnswer:
    """The answer of one study. `study` was fetched through studies.selectors.study_get_for_user."""
    review = StudyReview.objects.filter(study=study).select_related("reviewer").order_by("-created_at", "-id").first()
    if study.summary is None:  # analysing: nothing the slices add up to yet; a review still stands
        return StudyAnswer(finding=review.final_finding if review else ANALYSING, source=SOURCE_REVIEWER if review else None,
                           slices_finding=None, recorded_finding=None, current_summary=None, review=review,
                           analysing=True)  # fmt: skip
    current = study_summary(study=study)
    return StudyAnswer(
        finding=review.final_finding if review else current["state"],
        source=SOURCE_REVIEWER if review else SOURCE_AI,
        slices_finding=current["state"],
        recorded_finding=study.summary["state"],
        current_summary=current,
        reviewed_slices=current.get("reviewed_slices", 0),
        review=review,
    )


def review_summary(review: StudyReview) -> str:
    """'Confirmed: Tumour finding', 'Overridden: No tumour on every analysed slice', 'Marked unusable'."""
    if review.decision == ReviewDecision.UNUSABLE:
        return "Marked unusable: not analysed"
    return f"{_DECISION_WORDS[review.decision].capitalize()}: {finding_name(review.final_finding)}"

