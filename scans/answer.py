"""A scan's answer, the thing a clinician reads first: computed here and nowhere else.

- final label: the standing (latest) review's label if a person reviewed the scan, else the AI's;
- source: the reviewer (who, when) or the AI;
- state: analysed / needs review / not analysed (refused as not a brain MRI, or a reviewer said
  "not a brain MRI / unusable") / failed, or still queued / processing.

`scans_with_answers` writes these rules once, in SQL, so that lists, filters, counts, the worklist
and agreement statistics can use them; `answer_of` reads the same annotations into an `Answer` for
one scan (result page, PDF, API). The AI's own Prediction is never changed: it stays the record of
what the model said. This is the one module of scans that reads reviews.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, CharField, F, FloatField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from ml.config import CLASS_NAMES, NO_TUMOUR_CLASS
from ml.wording import NO_TUMOUR_UNCONFIRMED, NOT_MRI, SECOND_READER, format_probability
from neuroscan.timefmt import format_datetime
from reviews.models import Review, ReviewDecision
from scans.labels import label_name
from scans.models import Prediction, Scan, ScanStatus

TUMOUR_CLASSES = [name for name in CLASS_NAMES if name != NO_TUMOUR_CLASS]


class AnswerState:
    QUEUED = "queued"
    PROCESSING = "processing"
    ANALYSED = "analysed"
    NEEDS_REVIEW = "needs_review"
    NOT_ANALYSED = "not_analysed"
    FAILED = "failed"

    CHOICES = [
        (ANALYSED, "Analysed"),
        (NEEDS_REVIEW, "Needs review"),
        (NOT_ANALYSED, "Not analysed"),
        (FAILED, "Failed"),
        (QUEUED, "Queued"),
        (PROCESSING, "Processing"),
    ]
    NAMES = dict(CHOICES)
    VALUES = [value for value, _name in CHOICES]


SOURCE_AI = "ai"
SOURCE_REVIEWER = "reviewer"
ANSWER_SOURCES = [SOURCE_AI, SOURCE_REVIEWER]
NOT_MRI_HEADLINE = "Not analysed — this does not look like a brain MRI"
UNUSABLE_HEADLINE = "Not analysed — a reviewer marked this image as not a brain MRI or unusable"


def scans_with_answers(scans: QuerySet) -> QuerySet:
    """Annotate scans with their latest AI prediction (latest_*), standing review (review_*) and answer (answer_*)."""
    latest = Prediction.objects.filter(scan=OuterRef("pk")).order_by("-created_at", "-pk")
    standing = Review.objects.filter(scan=OuterRef("pk")).order_by("-created_at", "-id")
    no_tumour = Cast(KeyTextTransform(NO_TUMOUR_CLASS, "probabilities"), FloatField())
    scans = scans.annotate(
        latest_label=Subquery(latest.values("label")[:1]),
        latest_confidence=Subquery(latest.values("confidence")[:1]),
        latest_abstained=Subquery(latest.values("abstained")[:1]),
        latest_abstain_kind=Subquery(latest.values("abstain_kind")[:1]),
        latest_abstain_reason=Subquery(latest.values("abstain_reason")[:1]),
        latest_no_tumour=Subquery(latest.annotate(p=no_tumour).values("p")[:1]),
        review_decision=Subquery(standing.values("decision")[:1]),
        review_label=Subquery(standing.values("final_label")[:1]),
        review_note=Subquery(standing.values("note")[:1]),
        reviewer_name=Subquery(standing.values("reviewer__username")[:1]),
        reviewed_at=Subquery(standing.values("created_at")[:1]),
    )
    scans = scans.annotate(
        answer_state=Case(
            When(status=ScanStatus.QUEUED, then=Value(AnswerState.QUEUED)),
            When(status=ScanStatus.PROCESSING, then=Value(AnswerState.PROCESSING)),
            When(status=ScanStatus.FAILED, then=Value(AnswerState.FAILED)),
            # Done without a stored prediction cannot be read; say so rather than invent an answer.
            When(latest_label=None, then=Value(AnswerState.FAILED)),
            When(review_decision=ReviewDecision.UNUSABLE, then=Value(AnswerState.NOT_ANALYSED)),
            # A person's verdict settles it, whatever the model said (a refusal or a doubt included).
            When(review_decision__isnull=False, then=Value(AnswerState.ANALYSED)),
            When(latest_abstain_kind=NOT_MRI, then=Value(AnswerState.NOT_ANALYSED)),
            When(latest_abstained=True, then=Value(AnswerState.NEEDS_REVIEW)),
            default=Value(AnswerState.ANALYSED),
            output_field=CharField(),
        )
    )
    return scans.annotate(
        answer_label=Case(
            When(answer_state=AnswerState.ANALYSED, review_decision__isnull=False, then=F("review_label")),
            When(answer_state__in=[AnswerState.ANALYSED, AnswerState.NEEDS_REVIEW], then=F("latest_label")),
            default=Value(None),
            output_field=CharField(),
        ),
        answer_source=Case(
            When(review_decision__isnull=False, then=Value(SOURCE_REVIEWER)),
            When(answer_state__in=[AnswerState.ANALYSED, AnswerState.NEEDS_REVIEW, AnswerState.NOT_ANALYSED],
                 then=Value(SOURCE_AI)),  # fmt: skip
            default=Value(None),
            output_field=CharField(),
        ),
    )


def answers_counted_as_label(scans: QuerySet) -> QuerySet:
    """The annotated scans whose answer is a label: analysed (refusals and doubts have their own counts)."""
    return scans.filter(answer_state=AnswerState.ANALYSED)


def filter_by_final_label(scans: QuerySet, label: str) -> QuerySet:
    return answers_counted_as_label(scans).filter(answer_label=label)


def worklist_order(scans: QuerySet) -> QuerySet:
    """Annotated scans by risk: needs review, then tumour findings, then "no tumour" answers, then refusals.

    "No tumour" answers go by their summed tumour probability (1 - p(no tumour)), highest first:
    that is where a missed tumour hides.
    """
    priority = Case(
        When(answer_state=AnswerState.NEEDS_REVIEW, then=Value(0)),
        When(answer_state=AnswerState.ANALYSED, latest_label__in=TUMOUR_CLASSES, then=Value(1)),
        When(answer_state=AnswerState.ANALYSED, then=Value(2)),
        default=Value(3),
    )
    risk = Case(When(worklist_priority=2, then=F("latest_no_tumour")), default=Value(0.0), output_field=FloatField())
    return scans.annotate(worklist_priority=priority).annotate(worklist_risk=risk).order_by(
        "worklist_priority", "worklist_risk", "-created_at", "-pk"
    )


@dataclass(frozen=True)
class Answer:
    state: str
    final_label: str | None  # a class name; None unless the state is analysed or needs review
    source: str | None  # SOURCE_AI or SOURCE_REVIEWER; None while there is no answer
    ai_label: str | None  # the AI's label as a finding (None for a refusal: a refusal carries no label)
    ai_confidence: float | None
    abstain_kind: str = ""
    abstain_reason: str = ""
    review_decision: str = ""
    review_note: str = ""
    reviewer: str = ""
    reviewed_at: datetime | None = None
    failure_reason: str = ""

    @property
    def reviewed(self) -> bool:
        return self.source == SOURCE_REVIEWER

    @property
    def refused_by_ai(self) -> bool:
        return self.abstain_kind == NOT_MRI

    @property
    def label_name(self) -> str:
        return label_name(self.final_label)

    @property
    def ai_label_name(self) -> str:
        return label_name(self.ai_label)

    @property
    def ai_suggestion(self) -> str:
        """'No tumour detected, > 99 %', or why there is none."""
        if self.refused_by_ai:
            return "nothing: it did not analyse the image (it does not look like a brain MRI)"
        if self.ai_label is None:
            return ""
        return f"{label_name(self.ai_label)}, {format_probability(self.ai_confidence or 0.0)}"

    @property
    def state_name(self) -> str:
        return AnswerState.NAMES[self.state]

    @property
    def headline(self) -> str:
        """The first line a clinician reads: the final label, or the state when there is none."""
        if self.state == AnswerState.ANALYSED:
            return self.label_name
        if self.state == AnswerState.NOT_ANALYSED:
            return UNUSABLE_HEADLINE if self.review_decision == ReviewDecision.UNUSABLE else NOT_MRI_HEADLINE
        if self.state == AnswerState.NEEDS_REVIEW:
            return f"Needs review — the AI leans towards {self.ai_label_name}"
        if self.state == AnswerState.FAILED:
            return "The analysis failed"
        return "Waiting for the analyser" if self.state == AnswerState.QUEUED else "Analysing"

    @property
    def byline(self) -> str:
        """Who gave the answer and when, and what the AI said: 'reviewed by bob, 1 Dec 18:33; the AI suggested …'."""
        if self.reviewed:
            who = f"{self.reviewer}, {format_datetime(self.reviewed_at)}"
            if self.review_decision == ReviewDecision.CONFIRMED:
                return f"confirmed by {who}; the AI suggested the same, {format_probability(self.ai_confidence or 0.0)}"
            return f"reviewed by {who}; the AI suggested {self.ai_suggestion}"
        if self.state == AnswerState.ANALYSED:
            return f"AI suggestion, {format_probability(self.ai_confidence or 0.0)}; not reviewed by a person yet"
        if self.state == AnswerState.NEEDS_REVIEW:
            return f"AI suggestion, {format_probability(self.ai_confidence or 0.0)}; a person should read this slice"
        return ""

    @property
    def reason(self) -> str:
        """Why there is no plain answer, in words for a clinician ('' when there is one)."""
        if self.state == AnswerState.FAILED:
            return self.failure_reason or "An unknown error stopped the analysis."
        if self.state == AnswerState.NOT_ANALYSED and self.review_decision == ReviewDecision.UNUSABLE:
            return self.review_note or "The reviewer left no note."
        if self.state in (AnswerState.NOT_ANALYSED, AnswerState.NEEDS_REVIEW):
            return self.abstain_reason
        return ""

    @property
    def needs_review_title(self) -> str:
        if self.abstain_kind == SECOND_READER:
            return "Needs review: another reading found signs of a tumour"
        if self.abstain_kind == NO_TUMOUR_UNCONFIRMED:
            return "Needs review: “no tumour” is not certain enough"
        return "Needs review: the model is unsure"

    @property
    def short(self) -> str:
        """One line for lists and status updates: 'Glioma · reviewed by bob', 'Needs review · Glioma 51 %'."""
        if self.state == AnswerState.ANALYSED:
            who = f"reviewed by {self.reviewer}" if self.reviewed else f"AI, {format_probability(self.ai_confidence or 0.0)}"
            return f"{self.label_name} · {who}"
        if self.state == AnswerState.NEEDS_REVIEW:
            return f"Needs review · AI: {self.ai_label_name} {format_probability(self.ai_confidence or 0.0)}"
        return self.state_name


def answer_of(scan: Scan) -> Answer:
    """The answer of one scan, from scans_with_answers' annotations (added here if the scan lacks them)."""
    if not hasattr(scan, "answer_state"):
        annotated = scans_with_answers(Scan.objects.filter(pk=scan.pk)).get()
    else:
        annotated = scan
    kind = annotated.latest_abstain_kind or ""
    refused = kind == NOT_MRI
    return Answer(
        state=annotated.answer_state,
        final_label=annotated.answer_label,
        source=annotated.answer_source,
        ai_label=None if refused else annotated.latest_label,
        ai_confidence=None if refused else annotated.latest_confidence,
        abstain_kind=kind,
        abstain_reason=annotated.latest_abstain_reason or "",
        review_decision=annotated.review_decision or "",
        review_note=annotated.review_note or "",
        reviewer=annotated.reviewer_name or "",
        reviewed_at=annotated.reviewed_at,
        failure_reason=annotated.failure_reason,
    )


# The rows and columns of the agreement table: each class, and "not analysed" (a refusal, or "unusable").
NOT_ANALYSED_KEY = AnswerState.NOT_ANALYSED
ANSWER_KEYS = [*CLASS_NAMES, NOT_ANALYSED_KEY]


def answer_key(*, label: str | None, refused: bool) -> str:
    return NOT_ANALYSED_KEY if refused or not label else label


def answer_key_name(key: str) -> str:
    return "Not analysed" if key == NOT_ANALYSED_KEY else label_name(key)
