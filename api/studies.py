"""REST API v1, studies. Thin: studies.services and studies.selectors do the work, as they do for the pages.

Every view that takes a study id fetches it through `_study_for`, which goes through
studies.selectors.study_get_for_user (the only access path): unknown and foreign ids are the same 404.
"""

from django.core.exceptions import RequestDataTooBig, TooManyFilesSent, ValidationError
from django.conf import settings
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, content_negotiation_class, parser_classes, schema
from rest_framework.exceptions import NotFound, ValidationError as ApiValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.audit import AuditAction, AuditOutcome, audit_record
from api import study_serializers as s
from api.serializers import ErrorSerializer
from api.views import IgnoreAcceptHeader, ScanPagination, _BodyRequired, _PaginateGetOnly
from reports.services import ReportNotReady
from reports.study_pdf import build_study_report_pdf
from reports.study_services import report_input_for_study, study_report_file_name
from scans.answer import answer_of
from scans.responses import private_pdf_response
from studies.answer import study_answer
from studies.errors import StudyRejected
from studies.models import Study
from studies.reviews import study_review_create
from studies.selectors import studies_for_user, study_get_for_user, study_progress, study_reviews, study_series
from studies.services import study_ingest
from studies.summary import study_slices_with_answers

_REJECTION_STATUS = {"invalid": 400, "too_large": 413, "quota": 429}


def _study_for(request: Request, study_id) -> Study:
    """The study if this user may see it, else NotFound (JSON 404), recorded as a denied access."""
    try:
        return study_get_for_user(study_id=study_id, user=request.user)
    except Http404:
        audit_record(action=AuditAction.ACCESS_DENIED, actor=request.user, request=request._request,
                     object_type="study", object_id=study_id, outcome=AuditOutcome.DENIED)  # fmt: skip
        raise NotFound("No such study.") from None


def _detail(request: Request, study: Study) -> dict:
    slice_answers = {scan.id: answer_of(scan) for scan in study_slices_with_answers(study=study)}
    context = {"request": request, "progress": study_progress(study=study), "series": study_series(study=study),
               "answer": study_answer(study=study), "slice_answers": slice_answers}  # fmt: skip
    return s.StudyDetailSerializer(study, context=context).data


def _refused(message: str, files=(), code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"error": message, "files": [problem.as_dict() for problem in files]}, status=code)


class StudiesView(GenericAPIView):
    schema = _PaginateGetOnly()
    pagination_class = ScanPagination
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = s.StudySummarySerializer

    @extend_schema(
        tags=["studies"],
        summary="Your studies, newest first, with their progress",
        responses={200: s.StudySummarySerializer(many=True), 400: OpenApiResponse(ErrorSerializer, description="Invalid input."),
                   401: OpenApiResponse(ErrorSerializer), 404: OpenApiResponse(ErrorSerializer, description="No such page.")},  # fmt: skip
        operation_id="v1_studies_list",
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(studies_for_user(user=request.user))
        response = self.get_paginated_response(s.StudySummarySerializer(page, many=True, context={"request": request}).data)
        response["Cache-Control"] = "private, no-store"
        return response

    @extend_schema(
        tags=["studies"],
        summary="Upload a study: a DICOM series (files or one zip) or a NIfTI volume",
        description=(
            "Every slice becomes a scan, analysed like a single upload; the study's summary is written when the "
            "last slice is done. Files that are not usable images are skipped and listed under `skipped`. "
            "If the whole study is refused (limits, mixed patients, no usable image), nothing is stored."
        ),
        request={"multipart/form-data": s.StudyUploadRequestSerializer},
        responses={
            201: s.StudyDetailSerializer,
            400: OpenApiResponse(s.StudyRefusedSerializer, description="Refused: nothing was stored."),
            413: OpenApiResponse(s.StudyRefusedSerializer, description="Over a size or count limit."),
            429: OpenApiResponse(s.StudyRefusedSerializer, description="Over the hourly study quota."),
            401: OpenApiResponse(ErrorSerializer),
        },
        operation_id="v1_studies_create",
    )
    def post(self, request: Request) -> Response:
        try:
            files = request.FILES.getlist("file")
            fields = s.StudyUploadFieldsSerializer(data={key: request.data.get(key, "") for key in ("patient_ref", "note")})
        except TooManyFilesSent:
            return _refused(f"Send at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files per request.", code=413)
        except RequestDataTooBig:
            return _refused("The request's form fields are too large.", code=413)
        if not fields.is_valid():
            return Response({"error": "Invalid input.", "files": [], "fields": fields.errors}, status=400)
        if not files:
            return _refused("Send the study's files, each in a part named `file` (or one zip, or one NIfTI volume).")
        try:
            study = study_ingest(owner=request.user, files=files, patient_reference=fields.validated_data.get("patient_ref", ""),
                                 note=fields.validated_data.get("note", ""), request=request._request)  # fmt: skip
        except StudyRejected as rejection:
            return _refused(rejection.message, rejection.files, code=_REJECTION_STATUS[rejection.code])
        return Response(_detail(request, study), status=status.HTTP_201_CREATED)


@extend_schema(tags=["studies"], summary="One study: progress, summary, series and their slices with links",
               responses={200: s.StudyDetailSerializer, 401: OpenApiResponse(ErrorSerializer),
                          404: OpenApiResponse(ErrorSerializer, description="No such study (or not yours: the same answer).")})  # fmt: skip
@api_view(["GET"])
def study_detail(request: Request, study_id) -> Response:
    study = _study_for(request, study_id)
    audit_record(action=AuditAction.VIEW_RESULT, actor=request.user, request=request._request, object_type="study", object_id=study.id)
    response = Response(_detail(request, study))
    response["Cache-Control"] = "private, no-store"
    return response


_NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such study (or not yours: the same answer).")


@extend_schema(
    tags=["studies"],
    summary="The PDF report of a summarised study",
    parameters=[OpenApiParameter("paper", str, enum=["a4", "letter"], description="Page size (default A4).")],
    responses={(200, "application/pdf"): OpenApiTypes.BINARY, 400: OpenApiResponse(ErrorSerializer, description="Invalid input."),
               401: OpenApiResponse(ErrorSerializer), 404: _NOT_FOUND,
               409: OpenApiResponse(ErrorSerializer, description="Not every slice has finished yet.")},  # fmt: skip
)
@api_view(["GET"])
@content_negotiation_class(IgnoreAcceptHeader)
def study_report(request: Request, study_id) -> HttpResponse:
    study = _study_for(request, study_id)
    try:
        report = report_input_for_study(study=study)
    except ReportNotReady as error:
        return Response({"error": str(error)}, status=status.HTTP_409_CONFLICT)
    paper = request.query_params.get("paper", "a4")
    if paper not in ("a4", "letter"):
        raise ApiValidationError({"paper": ["Choose a4 or letter."]})
    pdf = build_study_report_pdf(report, page_size="Letter" if paper == "letter" else "A4")
    audit_record(action=AuditAction.DOWNLOAD_REPORT, actor=request.user, request=request._request, object_type="study", object_id=study.id)
    return private_pdf_response(pdf, filename=study_report_file_name(study))


@extend_schema(
    methods=["GET"], tags=["reviews"], summary="A study's reviews, oldest first (the last one stands)",
    responses={200: s.StudyReviewSerializer(many=True), 401: OpenApiResponse(ErrorSerializer), 404: _NOT_FOUND},
    operation_id="v1_studies_reviews_list",
)  # fmt: skip
@extend_schema(
    methods=["POST"], tags=["reviews"], operation_id="v1_studies_reviews_create",
    summary="Confirm or override the study's finding, or mark the study unusable (the study's owner or a reviewer)",
    request=PolymorphicProxySerializer(
        component_name="StudyReviewRequest",
        serializers={"confirmed": s.ConfirmStudyReviewSerializer, "overridden": s.OverrideStudyReviewSerializer,
                     "unusable": s.UnusableStudyReviewSerializer},  # fmt: skip
        resource_type_field_name="decision",
    ),
    responses={201: s.StudyReviewSerializer, 400: OpenApiResponse(ErrorSerializer, description="Invalid input."),
               401: OpenApiResponse(ErrorSerializer), 404: _NOT_FOUND,
               409: OpenApiResponse(ErrorSerializer, description=(
                   "The study cannot take this review now: not every slice has finished, there is no finding to "
                   "confirm, or the override names the slices' own finding."))},  # fmt: skip
)
@api_view(["GET", "POST"])
@parser_classes([JSONParser, FormParser, MultiPartParser])
@schema(_BodyRequired())
def study_reviews_view(request: Request, study_id) -> Response:
    study = _study_for(request, study_id)
    if request.method == "GET":
        audit_record(action=AuditAction.VIEW_RESULT, actor=request.user, request=request._request, object_type="study", object_id=study.id)
        response = Response(s.StudyReviewSerializer(study_reviews(study=study), many=True).data)
        response["Cache-Control"] = "private, no-store"
        return response
    data = s.StudyReviewRequestSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        review = study_review_create(study=study, reviewer=request.user, decision=data.validated_data["decision"],
                                     override_finding=data.validated_data.get("override_finding", ""),
                                     note=data.validated_data.get("note", ""), request=request._request)  # fmt: skip
    except ValidationError as error:
        # The request itself was valid (above): what the service refuses depends on the study's state.
        return Response({"error": " ".join(error.messages)}, status=status.HTTP_409_CONFLICT)
    return Response(s.StudyReviewSerializer(review).data, status=status.HTTP_201_CREATED)
