"""Scan pages, the status endpoint and the authorising image streams. Thin: services and selectors do the work."""

import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import owned_object_view
from accounts.audit import AuditAction, audit_record
from neuroscan.timefmt import format_datetime
from ml.config import CLASS_NAMES
from scans import services
from scans.analyser import analyser_ready
from scans.answer import AnswerState, answer_of, scans_with_answers
from scans.durations import scan_durations
from scans.errors import ScanRejected
from scans.forms import HistoryFilterForm, UploadForm
from scans.labels import LABEL_EXPLANATIONS, LABEL_NAMES, label_name
from scans.models import Scan, ScanStatus
from scans.responses import private_file_response
from scans.selectors import (
    scan_get_for_user,
    scan_latest_prediction,
    scan_same_file_earlier,
    scans_get_many_for_user,
    scans_history_for_user,
    scans_label_counts_for_user,
    scans_state_counts_for_user,
)

HISTORY_PAGE_SIZE = 20
_REJECTION_STATUS = {"invalid": 400, "too_large": 413, "quota": 429, "deferred": 503}


def scan_view(*, methods: tuple[str, ...], for_owner_action: bool = False) -> Callable:
    """The scan through its one selector before anything else (accounts.access.owned_object_view)."""
    fetch = lambda scan_id, user: scan_get_for_user(scan_id=scan_id, user=user, for_owner_action=for_owner_action)  # noqa: E731
    return owned_object_view(fetch, object_type="scan", id_name="scan_id", methods=methods)


# --- Upload -------------------------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _upload_page(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    context["max_megabytes"] = settings.SCANS_MAX_UPLOAD_BYTES // (1024 * 1024) or 1
    return render(request, "scans/upload.html", context, status=status)


@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST if request.method == "POST" else None)
    if request.method == "GET":
        return _upload_page(request, {"form": form})

    files = request.FILES.getlist("files")
    if not form.is_valid() or not files:
        error = "Choose at least one file to upload." if not files else "Please correct the fields below."
        if _wants_json(request):
            return JsonResponse({"results": [], "error": error, "fields": form.errors}, status=400)
        return _upload_page(request, {"form": form, "form_error": error}, status=400)

    results = []
    started = timezone.now()  # a scan older than this is the idempotent answer to a repeat
    budget = services.UploadBudget.for_request()
    for uploaded in files:
        try:
            scan = services.scan_ingest(
                owner=request.user,
                uploaded_file=uploaded,
                patient_reference=form.cleaned_data["patient_reference"],
                note=form.cleaned_data["note"],
                request=request,
                budget=budget,
            )
        except ScanRejected as rejection:
            results.append({"name": services.clean_file_name(uploaded.name or ""), "ok": False, "error": rejection.message, "code": rejection.code})
        else:
            results.append({
                "name": scan.original_name, "ok": True, "scan_id": str(scan.id),
                "url": reverse("scans:detail", args=[scan.id]), "status_url": reverse("scans:status", args=[scan.id]),
                "duplicate_of": _duplicate_of(scan, started=started),
            })  # fmt: skip

    accepted = [result for result in results if result["ok"]]
    if _wants_json(request):
        status = 201 if accepted else _REJECTION_STATUS.get(results[0]["code"], 400)
        return JsonResponse({"results": results}, status=status)
    for result in accepted:
        duplicate = result["duplicate_of"]
        if duplicate and duplicate["same_scan"]:
            messages.info(request, f"“{result['name']}” was uploaded already, on {duplicate['uploaded']}: "
                                   "this is that scan, not a new one.")  # fmt: skip
        elif duplicate:
            messages.info(request, f"“{result['name']}” is the same file as one you uploaded on "
                                   f"{duplicate['uploaded']}: it is analysed again as a new scan.")  # fmt: skip
    if len(accepted) == len(results):
        if len(accepted) == 1:
            return redirect(accepted[0]["url"])
        messages.success(request, f"{len(accepted)} scans uploaded and queued for analysis.")
        return redirect("scans:history")
    # A mixed or refused batch: the accepted files are kept, each refusal is shown beside its file.
    status = 200 if accepted else _REJECTION_STATUS.get(results[0]["code"], 400)
    return _upload_page(request, {"form": UploadForm(), "results": results}, status=status)


def _duplicate_of(scan: Scan, *, started) -> dict | None:
    """The same file uploaded before by the same user, pointed out.

    same_scan: a repeat within SCANS_DUPLICATE_WINDOW_SECONDS, answered by ingest with that scan
    itself; otherwise a new scan was made (a re-read may be wanted) and the earlier one is named.
    """
    same_scan = scan.created_at < started
    earlier = scan if same_scan else scan_same_file_earlier(scan=scan)
    if earlier is None:
        return None
    return {"scan_id": str(earlier.id), "url": reverse("scans:detail", args=[earlier.id]),
            "uploaded": format_datetime(earlier.created_at), "same_scan": same_scan}  # fmt: skip


# --- History ----------------------------------------------------------------------------


def _chips(label_counts: dict[str, int], state_counts: dict[str, int]) -> list[tuple[str, str, int, str]]:
    """(value, name, count, query) per label chip, then the states that are not a label."""
    chips = [(label, LABEL_NAMES[label], label_counts.get(label, 0), f"label={label}") for label in CLASS_NAMES]
    for state in (AnswerState.NEEDS_REVIEW, AnswerState.NOT_ANALYSED, AnswerState.FAILED):
        if state != AnswerState.FAILED or state_counts.get(state):
            chips.append((state, AnswerState.NAMES[state], state_counts.get(state, 0), f"state={state}"))
    return chips


@require_GET
def history(request: HttpRequest) -> HttpResponse:
    filter_form = HistoryFilterForm(request.GET or None)
    scans = scans_history_for_user(user=request.user, filters=filter_form.to_filters())
    page = Paginator(scans, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    for scan in page:
        scan.answer = answer_of(scan)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "scans/history.html", {
        "filter_form": filter_form,
        "page": page,
        "chips": _chips(scans_label_counts_for_user(user=request.user), scans_state_counts_for_user(user=request.user)),
        "query_string": query.urlencode(),
        "filtered": bool(filter_form.is_bound and any(filter_form.data.get(k) for k in filter_form.fields)),
    })  # fmt: skip


STATUSES_MAX_IDS = 100


@require_GET
def statuses(request: HttpRequest) -> JsonResponse:
    """The state and answer of several scans at once, for pages that update their rows in place.

    `?id=<uuid>&id=<uuid>…`; ids the user may not see, or that do not exist, are left out of the answer.
    """
    ids = [value for value in request.GET.getlist("id")[:STATUSES_MAX_IDS] if _is_uuid(value)]
    scans = scans_with_answers(scans_get_many_for_user(scan_ids=ids, user=request.user))
    rows = []
    for scan in scans:
        scan.answer = answer_of(scan)
        rows.append({
            "id": str(scan.id),
            "state": scan.answer.state,
            "state_display": scan.answer.state_name,
            "finished": scan.is_finished,
            "answer": scan.answer.short,
            "result_url": reverse("scans:detail", args=[scan.id]),
            "row_html": render_to_string("scans/_history_row.html", {"scan": scan}, request=request),
        })  # fmt: skip
    response = JsonResponse({"scans": rows})
    response["Cache-Control"] = "no-store"
    return response


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# --- One scan -----------------------------------------------------------------------------


def _status_payload(scan: Scan) -> dict:
    end = scan.finished_at or timezone.now()
    return {
        "id": str(scan.id),
        "status": scan.status,
        "status_display": scan.get_status_display(),
        "finished": scan.is_finished,
        "failure_reason": scan.failure_reason,
        "elapsed_seconds": round((end - scan.created_at).total_seconds(), 1),
        "result_url": reverse("scans:detail", args=[scan.id]),
        # A queued scan with no worker that has the model loaded: say why it waits.
        "service_starting": scan.status == ScanStatus.QUEUED and not analyser_ready(),
    }


@scan_view(methods=("GET",))
def detail(request: HttpRequest, scan: Scan) -> HttpResponse:
    prediction = scan_latest_prediction(scan=scan) if scan.status == ScanStatus.DONE else None
    audit_record(action=AuditAction.VIEW_RESULT, actor=request.user, request=request, object_type="scan", object_id=scan.id)
    context = {"scan": scan, "prediction": prediction, "status": _status_payload(scan), "answer": answer_of(scan),
               "is_owner": scan.owner_id == request.user.pk}  # fmt: skip
    if prediction is not None and not prediction.refused_as_not_mri:
        context["label_name"] = label_name(prediction.label)
        context["label_explanation"] = LABEL_EXPLANATIONS.get(prediction.label, "")
        context["bars"] = [
            {"label": label, "name": LABEL_NAMES[label], "probability": prediction.probabilities.get(label, 0.0),
             "width": round(100 * prediction.probabilities.get(label, 0.0), 1), "chosen": label == prediction.label}
            for label in CLASS_NAMES
        ]  # fmt: skip
    if prediction is not None:
        # What a user cares about, from the scan's own timestamps; the model's internal timings
        # stay in the API and the admin.
        context["durations"] = scan_durations(created_at=scan.created_at, processing_started_at=scan.processing_started_at,
                                              finished_at=scan.finished_at)  # fmt: skip
    return render(request, "scans/detail.html", context)


@scan_view(methods=("GET",))
def status(request: HttpRequest, scan: Scan) -> JsonResponse:
    response = JsonResponse(_status_payload(scan))
    response["Cache-Control"] = "no-store"
    return response


@scan_view(methods=("GET",))
def image(request: HttpRequest, scan: Scan) -> FileResponse:
    audit_record(action=AuditAction.FETCH_IMAGE, actor=request.user, request=request, object_type="scan", object_id=scan.id)
    return private_file_response(scan.display.name, filename="scan.png")


@scan_view(methods=("GET",))
def thumbnail(request: HttpRequest, scan: Scan) -> FileResponse:
    return private_file_response(scan.thumbnail.name, filename="thumbnail.png")


@scan_view(methods=("GET",))
def heatmap(request: HttpRequest, scan: Scan) -> FileResponse:
    prediction = scan_latest_prediction(scan=scan)
    if prediction is None or not prediction.has_heatmap:
        raise Http404("No heatmap for this scan.")
    audit_record(action=AuditAction.FETCH_HEATMAP, actor=request.user, request=request, object_type="scan", object_id=scan.id)
    return private_file_response(prediction.heatmap.name, filename="heatmap.png")


@scan_view(methods=("GET",))
def heat(request: HttpRequest, scan: Scan) -> FileResponse:
    """The Grad-CAM heat as grey levels, for the page's "hottest region only" view."""
    prediction = scan_latest_prediction(scan=scan)
    if prediction is None or not prediction.has_heatmap or not prediction.heat:
        raise Http404("No heat map for this scan.")
    audit_record(action=AuditAction.FETCH_HEATMAP, actor=request.user, request=request, object_type="scan", object_id=scan.id)
    return private_file_response(prediction.heat.name, filename="heat.png")


@scan_view(methods=("POST",), for_owner_action=True)
def retry(request: HttpRequest, scan: Scan) -> HttpResponse:
    if services.scan_retry(scan=scan):
        messages.success(request, "The scan is queued for analysis again.")
    else:
        messages.info(request, "Only a failed scan can be retried.")
    return redirect("scans:detail", scan_id=scan.id)
