"""Study review writes: a person confirms or overrides a study's finding, audited like a scan's review."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest

from accounts.audit import AuditAction, audit_record
from accounts.roles import is_reviewer
from reviews.models import ReviewDecision
from studies.answer import FINDING_CHOICES, study_answer
from studies.models import Study, StudyFinding, StudyReview
from studies.summary import StudyState

OVERRIDE_FINDINGS = tuple(value for value, _name in FINDING_CHOICES)


@transaction.atomic
def study_review_create(
    *,
    study: Study,
    reviewer,
    decision: str,
    override_finding: str = "",
    note: str = "",
    request: HttpRequest | None = None,
) -> StudyReview:
    """Record a person's verdict on the study's finding, audited in the same transaction.

    Decisions, as for a scan: confirm the finding the slices' answers add up to now; override it
    (tumour finding / no tumour); or "unusable" (the study cannot be read: "not analysed").
    Who may review is who may review the study's scans: its owner or a reviewer (the caller fetched
    `study` through studies.selectors.study_get_for_user; this is checked again here). A repeated
    identical submission (a double click) returns the review already stored.
    """
    if reviewer.pk != study.owner_id and not is_reviewer(reviewer):
        raise PermissionDenied("Only the study's owner or a reviewer may review it.")
    answer = study_answer(study=study)
    if answer.analysing:
        raise ValidationError("Only a study whose every slice has finished can be reviewed.")
    proposed = answer.slices_finding
    if decision == ReviewDecision.CONFIRMED:
        if proposed not in (StudyState.TUMOUR_FINDING, StudyState.NO_TUMOUR):
            raise ValidationError(
                "The slices' answers give no finding to confirm (some slice needs review, or none was analysed): "
                "choose the finding, or mark the study as unusable."
            )
        final = proposed
    elif decision == ReviewDecision.OVERRIDDEN:
        if override_finding not in OVERRIDE_FINDINGS:
            raise ValidationError("Choose the finding that replaces the slices' finding.")
        if override_finding == proposed:
            raise ValidationError("That is the slices' finding: choose another, or confirm.")
        final = override_finding
    elif decision == ReviewDecision.UNUSABLE:
        final = StudyFinding.NOT_ANALYSED
    else:
        raise ValidationError("Choose to confirm or to override the study's finding, or mark the study as unusable.")
    note = note.strip()

    # Lock the study row so that two submissions at once cannot both pass the double-click check.
    Study.objects.select_for_update().filter(pk=study.pk).first()
    latest = StudyReview.objects.filter(study=study).order_by("-created_at", "-id").first()
    if latest and (latest.reviewer_id, latest.decision, latest.final_finding, latest.note, latest.ai_finding) == (
        reviewer.pk, decision, final, note, proposed
    ):
        return latest

    review = StudyReview(study=study, reviewer=reviewer, decision=decision, ai_finding=proposed, final_finding=final, note=note)
    review.full_clean()
    review.save()
    audit_record(action=AuditAction.REVIEW, actor=reviewer, request=request, object_type="study", object_id=study.pk)
    return review
