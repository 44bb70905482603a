"""Review writes."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from accounts.audit import AuditAction, audit_record
from ml.config import CLASS_NAMES
from reviews.models import Review, ReviewDecision
from scans.models import Scan, ScanStatus
from scans.selectors import scan_latest_prediction


@transaction.atomic
def review_create(
    *,
    scan: Scan,
    reviewer,
    decision: str,
    override_label: str = "",
    note: str = "",
    request: HttpRequest | None = None,
) -> Review:
    """Record a reviewer's verdict on the scan's latest AI result, audited in the same transaction.

    Decisions: confirm the AI's label; override it with another class (for an image the AI refused,
    any class: it gave none); or "unusable" (not a brain MRI, or unreadable), which leaves no label.

    The caller has fetched `scan` through scans.selectors.scan_get_for_user, so the reviewer
    is its owner or in the reviewers group. A repeated identical submission (a double click)
    returns the review already stored instead of adding a second one.
    """
    if scan.status != ScanStatus.DONE:
        raise ValidationError("Only a finished analysis can be reviewed.")
    prediction = scan_latest_prediction(scan=scan)
    if prediction is None:
        raise ValidationError("This scan has no AI result to review.")
    refused = prediction.refused_as_not_mri  # a refusal carries no label: there is nothing to confirm
    if decision == ReviewDecision.CONFIRMED:
        if refused:
            raise ValidationError(
                "The AI gave no label for this image. Choose its class, or mark it as not a brain MRI / unusable."
            )
        final_label = prediction.label
    elif decision == ReviewDecision.OVERRIDDEN:
        if override_label not in CLASS_NAMES:
            raise ValidationError("Choose the class that replaces the AI label.")
        if override_label == prediction.label and not refused:
            raise ValidationError("That is the AI label: choose another class, or confirm.")
        final_label = override_label
    elif decision == ReviewDecision.UNUSABLE:
        final_label = ""  # the scan's answer becomes "not analysed", with this review's note
    else:
        raise ValidationError("Choose to confirm or to override the AI label, or mark the image as unusable.")
    note = note.strip()

    latest = Review.objects.select_for_update().filter(scan=scan).order_by("-created_at", "-id").first()
    if latest and (latest.reviewer_id, latest.decision, latest.final_label, latest.note, latest.prediction_id) == (
        reviewer.pk, decision, final_label, note, prediction.pk
    ):
        return latest

    review = Review(
        scan=scan,
        prediction=prediction,
        model_version=prediction.model_version,
        ai_label=prediction.label,
        reviewer=reviewer,
        decision=decision,
        final_label=final_label,
        note=note,
    )
    review.full_clean()
    review.save()
    audit_record(action=AuditAction.REVIEW, actor=reviewer, request=request, object_type="scan", object_id=scan.pk)
    return review
