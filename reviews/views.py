"""Review pages: submit a review, the reviewers' worklist, agreement statistics. Thin: services and selectors work."""

import functools
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from accounts.roles import is_reviewer
from reviews.drafts import review_draft_keep
from reviews.forms import ReviewForm
from reviews.selectors import agreement_by_class, worklist_for_reviewer
from reviews.services import review_create
from scans.forms import HistoryFilterForm
from scans.labels import LABEL_NAMES, label_name
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
        messages.error(request, "The review was not saved: choose to confirm or to override the AI label.")
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
    else:
        messages.success(request, f"Review saved: final label {label_name(review.final_label)}.")
    return redirect("scans:detail", scan_id=scan.id)


@require_GET
@reviewer_required
def worklist(request: HttpRequest) -> HttpResponse:
    filter_form = HistoryFilterForm(request.GET or None)
    page = Paginator(worklist_for_reviewer(filters=filter_form.to_filters()), WORKLIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for scan in page:
        scan.latest_label_name = label_name(scan.latest_label)
    query = request.GET.copy()
    query.pop("page", None)
    filtered = bool(filter_form.is_bound and any(filter_form.data.get(k) for k in filter_form.fields))
    return render(request, "reviews/worklist.html",
                  {"filter_form": filter_form, "page": page, "query_string": query.urlencode(), "filtered": filtered})  # fmt: skip


@require_GET
@reviewer_required
def agreement(request: HttpRequest) -> HttpResponse:
    rows = [(LABEL_NAMES[row.ai_label], row) for row in agreement_by_class()]
    return render(request, "reviews/agreement.html", {"rows": rows})
