"""Study pages, the study's status JSON (the viewer's data) and its review. Thin: services and selectors do the work.

Slice images and heatmaps are streamed by the scans' own authorising views (scans:image,
scans:heatmap): one access path per object.
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import owned_object_view
from accounts.audit import AuditAction, audit_record
from reviews.drafts import study_review_draft_keep, study_review_draft_take
from ml.wording import format_probability
from scans.answer import answer_of
from scans.labels import label_name
from scans.models import ScanStatus
from studies.errors import StudyRejected
from studies.answer import FINDING_CHOICES, finding_name, review_summary, study_answer
from studies.forms import StudyReviewForm, StudyUploadForm
from studies.models import Study
from studies.reviews import study_review_create
from studies.selectors import studies_for_user, study_get_for_user, study_progress, study_reviews, study_series
from studies.services import study_ingest
from studies.summary import StudyState, label_counts_in_order, study_slices_with_answers, tumour_probability

LIST_PAGE_SIZE = 20
_REJECTION_STATUS = {"invalid": 400, "too_large": 413, "quota": 429}


def study_view(view: Callable | None = None, *, methods: tuple[str, ...] = ("GET",)) -> Callable:
    """The study through its one selector before anything else (accounts.access.owned_object_view), GET
    unless told: `@study_view` or `@study_view(methods=("POST",))`."""
    fetch = lambda study_id, user: study_get_for_user(study_id=study_id, user=user)  # noqa: E731
    decorator = owned_object_view(fetch, object_type="study", id_name="study_id", methods=methods)
    return decorator(view) if view is not None else decorator


def _upload_page(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    context.update(
        max_files=settings.STUDIES_MAX_FILES,
        max_slices=settings.STUDIES_MAX_SLICES,
        max_megabytes=settings.STUDIES_MAX_UPLOAD_BYTES // (1024 * 1024) or 1,
    )
    return render(request, "studies/upload.html", context, status=status)


@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    form = StudyUploadForm(request.POST if request.method == "POST" else None)
    if request.method == "GET":
        return _upload_page(request, {"form": form})
    files = request.FILES.getlist("files")
    if not form.is_valid() or not files:
        error = "Choose the study's files, one zip, or one NIfTI volume." if not files else "Please correct the fields below."
        return _upload_page(request, {"form": form, "form_error": error}, status=400)
    try:
        study = study_ingest(owner=request.user, files=files, patient_reference=form.cleaned_data["patient_reference"],
                             note=form.cleaned_data["note"], request=request)  # fmt: skip
    except StudyRejected as rejection:
        context = {"form": form, "form_error": rejection.message, "problems": [problem.as_dict() for problem in rejection.files]}
        return _upload_page(request, context, status=_REJECTION_STATUS[rejection.code])
    return redirect("studies:detail", study_id=study.id)


@require_GET
def study_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(studies_for_user(user=request.user), LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    for study in page:
        # The study's answer, as on its page: a study review's finding, else what its slices' answers add up to.
        study.state_name = study_answer(study=study).headline if study.summary else ""
    return render(request, "studies/list.html", {"page": page})


def _status_payload(study: Study) -> dict:
    progress = study_progress(study=study)
    slices = []
    for scan in study_slices_with_answers(study=study):
        done = scan.status == ScanStatus.DONE
        tumour = tumour_probability(scan.latest_probabilities) if done else None
        answer = answer_of(scan)  # the slice's answer: final label and state, as on its own page
        slices.append({
            "scan_id": str(scan.id),
            "series": scan.study_slice.series.number,
            "position": scan.study_slice.position,
            "location_mm": scan.study_slice.location_mm,
            "status": scan.status,
            "answer_state": answer.state,
            "answer": answer.short,
            "tumour_probability": tumour,
            "tumour_probability_text": format_probability(tumour) if tumour is not None else "",
            "image_url": reverse("scans:image", args=[scan.id]),
            "heatmap_url": reverse("scans:heatmap", args=[scan.id]) if done and not answer.refused_by_ai else None,
            "scan_url": reverse("scans:detail", args=[scan.id]),
        })  # fmt: skip
    return {
        "status": study.status,
        "finished": study.summary is not None,
        "progress": {"total": progress.total, "finished": progress.finished, "failed": progress.failed},
        "slices": slices,
    }


@study_view
def detail(request: HttpRequest, study: Study) -> HttpResponse:
    audit_record(action=AuditAction.VIEW_RESULT, actor=request.user, request=request, object_type="study", object_id=study.id)
    summary = study.summary
    context = {
        "study": study,
        "series": study_series(study=study),
        "progress": study_progress(study=study),
        "summary": summary,
    }
    if summary:
        context["summary_state_name"] = StudyState.NAMES.get(summary["state"], summary["state"])
        context["label_counts"] = [(label_name(label), count) for label, count in label_counts_in_order(summary)]
        context["top_slices"] = [
            (label_name(label), [{**entry, "text": format_probability(entry["probability"])} for entry in entries])
            for label, entries in summary["top_slices"].items()
            if entries
        ]
    context.update(_review_context(study, request))
    return render(request, "studies/detail.html", context)


def _review_context(study: Study, request: HttpRequest) -> dict:
    """The study's answer (studies.answer), its review history, and what the review form offers (with a kept draft)."""
    answer = study_answer(study=study)
    reviews = study_reviews(study=study)
    for number, review in enumerate(reviews, start=1):
        review.summary = review_summary(review)
        review.superseded = number < len(reviews)
    return {
        "answer": answer,
        "study_reviews": reviews,
        "can_confirm": answer.slices_finding in (StudyState.TUMOUR_FINDING, StudyState.NO_TUMOUR),
        "slices_finding_name": finding_name(answer.slices_finding),
        "recorded_finding_name": finding_name(answer.recorded_finding),
        "finding_choices": [(value, name) for value, name in FINDING_CHOICES if value != answer.slices_finding],
        "draft": study_review_draft_take(request=request, study_id=study.id),
    }


@study_view(methods=("POST",))
def review_submit(request: HttpRequest, study: Study) -> HttpResponse:
    form = StudyReviewForm(request.POST)
    if not form.is_valid():
        study_review_draft_keep(request=request, study_id=study.id, data=request.POST)
        messages.error(request, "The review was not saved: confirm, override, or mark the study as unusable.")
        return redirect(reverse("studies:detail", args=[study.id]) + "#study-review")
    try:
        review = study_review_create(study=study, reviewer=request.user, decision=form.cleaned_data["decision"],
                                     override_finding=form.cleaned_data["override_finding"],
                                     note=form.cleaned_data["note"], request=request)  # fmt: skip
    except ValidationError as error:
        study_review_draft_keep(request=request, study_id=study.id, data=request.POST)
        messages.error(request, f"The review was not saved: {' '.join(error.messages)}")
        return redirect(reverse("studies:detail", args=[study.id]) + "#study-review")
    messages.success(request, f"Study review saved: {review_summary(review)}.")
    return redirect(reverse("studies:detail", args=[study.id]) + "#study-review")


@study_view
def status(request: HttpRequest, study: Study) -> JsonResponse:
    response = JsonResponse(_status_payload(study))
    response["Cache-Control"] = "no-store"
    return response
