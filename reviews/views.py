"""Review pages: submit a review, the reviewers' worklist, agreement statistics. Thin: services and selectors work."""

import csv
import functools
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from accounts.roles import is_reviewer
from reviews.drafts import review_draft_keep
from reviews.forms import ReviewForm
from reviews.models import ReviewDecision
from reviews.selectors import (
    WORKLIST_STATES,
    agreement_by_class,
    confusion_by_model_version,
    reviewed_answers,
    worklist_counts,
    worklist_for_reviewer,
    worklist_next,
)
from reviews.services import review_create
from scans.answer import ANSWER_KEYS, answer_key_name, answer_of
from scans.forms import HistoryFilterForm
from scans.labels import label_name
from scans.models import Scan
from scans.views import scan_view

WORKLIST_PAGE_SIZE = 25


def reviewer_required(view: Callable) -> Callable:
    """Reviewer pages do not exist for anyone else: the same 404 as an unknown URL."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_reviewer(request.user):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper


@scan_view(methods=("POST",))
def review_submit(request: HttpRequest, scan: Scan) -> HttpResponse:
    form = ReviewForm(request.POST)
    if not form.is_valid():
        review_draft_keep(request=request, scan_id=scan.id, data=request.POST)
        messages.error(request, "The review was not saved: confirm, override, or mark the image as unusable.")
        return redirect("scans:detail", scan_id=scan.id)
    try:
        review = review_create(
            scan=scan,
            reviewer=request.user,
            decision=form.cleaned_data["decision"],
            override_label=form.cleaned_data["override_label"],
            note=form.cleaned_data["note"],
            request=request,
        )
    except ValidationError as error:
        review_draft_keep(request=request, scan_id=scan.id, data=request.POST)
        messages.error(request, f"The review was not saved: {' '.join(error.messages)}")
        return redirect("scans:detail", scan_id=scan.id)
    if review.decision == ReviewDecision.UNUSABLE:
        messages.success(request, "Review saved: not a brain MRI / unusable image.")
    else:
        messages.success(request, f"Review saved: final label {label_name(review.final_label)}.")
    if request.POST.get("and_next") and is_reviewer(request.user):
        following = worklist_next(after=scan)
        if following is None:
            messages.info(request, "The worklist is empty: every finished scan has been reviewed.")
            return redirect("reviews:worklist")
        return redirect(reverse("scans:detail", args=[following.id]) + "#review")
    return redirect("scans:detail", scan_id=scan.id)


@require_GET
@reviewer_required
def worklist(request: HttpRequest) -> HttpResponse:
    filter_form = HistoryFilterForm(request.GET or None, states=WORKLIST_STATES)
    page = Paginator(worklist_for_reviewer(filters=filter_form.to_filters()), WORKLIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for scan in page:
        scan.answer = answer_of(scan)
        # The probabilities sum to 1, so the summed tumour probability is what "no tumour" leaves.
        scan.tumour_probability = None if scan.latest_no_tumour is None else 1.0 - scan.latest_no_tumour
    query = request.GET.copy()
    query.pop("page", None)
    filtered = bool(filter_form.is_bound and any(filter_form.data.get(k) for k in filter_form.fields))
    return render(request, "reviews/worklist.html", {
        "filter_form": filter_form, "page": page, "query_string": query.urlencode(), "filtered": filtered,
        "counts": worklist_counts(),
    })  # fmt: skip


@require_GET
@reviewer_required
def agreement(request: HttpRequest) -> HttpResponse:
    answers = reviewed_answers()
    tables = [
        (version, [(answer_key_name(ai), [cells.get((ai, final), 0) for final in ANSWER_KEYS]) for ai in ANSWER_KEYS])
        for version, cells in confusion_by_model_version(answers).items()
    ]
    return render(request, "reviews/agreement.html", {
        "rows": [(answer_key_name(row.ai_answer), row) for row in agreement_by_class(answers)],
        "columns": [answer_key_name(key) for key in ANSWER_KEYS],
        "tables": tables,
    })  # fmt: skip


@require_GET
@reviewer_required
def agreement_csv(request: HttpRequest) -> HttpResponse:
    """The confusion counts, one line per model version, AI answer and final answer (zeros left out)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="neuroscan-agreement.csv"'
    response["Cache-Control"] = "private, no-store"
    writer = csv.writer(response)
    writer.writerow(["model_version", "ai_answer", "final_answer", "scans"])
    for version, cells in confusion_by_model_version().items():
        for ai in ANSWER_KEYS:
            for final in ANSWER_KEYS:
                if cells.get((ai, final)):
                    writer.writerow([version, ai, final, cells[(ai, final)]])
    return response
