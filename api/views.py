"""REST API v1. Thin: scans/reviews/reports services and selectors do the work, as they do for the pages.

Every view that takes a scan id fetches it through `_scan_for`, which goes through
scans.selectors.scan_get_for_user (the only access path): unknown and foreign ids are the same 404.
Every access is audited like its page twin.
"""

from django.contrib.auth import authenticate
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent, ValidationError
from django.http import Http404, HttpResponse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    content_negotiation_class,
    parser_classes,
    permission_classes,
    schema,
)
from rest_framework.exceptions import NotFound, ValidationError as ApiValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.audit import AuditAction, AuditOutcome, audit_record
from api import serializers as s
from api.health import OK, health_checks
from api.services import token_create
from reports.pdf import build_report_pdf
from reports.services import ReportNotReady, model_card, report_file_name, report_input_for_scan
from reviews.selectors import reviews_for_scan
from reviews.services import review_create
from scans.errors import ScanRejected
from scans.models import Scan, ScanStatus
from scans.selectors import HistoryFilters, scan_get_for_user, scan_latest_prediction, scans_history_for_user
from scans.responses import private_file_response, private_pdf_response
from scans.services import UploadBudget, clean_file_name, scan_ingest

_REJECTION_STATUS = {"invalid": 400, "too_large": 413, "quota": 429, "deferred": 503}


def _errors(*codes: int, **described: str) -> dict:
    """Error responses for extend_schema: each status answers an ErrorSerializer body."""
    text = {
        400: "Invalid input.",
        401: "No or invalid credentials.",
        404: "No such scan (or not yours: the same answer).",
        409: "The analysis has not finished yet.",
        429: "Too many attempts.",
        503: "Not available.",
    }
    return {code: OpenApiResponse(s.ErrorSerializer, description=described.get(f"e{code}", text.get(code, ""))) for code in codes}


def _scan_for(request: Request, scan_id, *, for_owner_action: bool = False) -> Scan:
    """The scan if this user may see it, else NotFound (JSON 404), recorded as a denied access."""
    try:
        return scan_get_for_user(scan_id=scan_id, user=request.user, for_owner_action=for_owner_action)
    except Http404:
        audit_record(action=AuditAction.ACCESS_DENIED, actor=request.user, request=request._request,
                     object_type="scan", object_id=scan_id, outcome=AuditOutcome.DENIED)  # fmt: skip
        raise NotFound("No such scan.") from None


def _audit(request: Request, action: str, scan: Scan) -> None:
    audit_record(action=action, actor=request.user, request=request._request, object_type="scan", object_id=scan.id)


class IgnoreAcceptHeader(BaseContentNegotiation):
    """File endpoints answer PNG/PDF whatever Accept says; their errors are still rendered as JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


# --- Auth ---------------------------------------------------------------------------------------


@extend_schema(
    tags=["auth"],
    summary="Exchange a username and password for an API token",
    request=s.TokenRequestSerializer,
    responses={200: s.TokenSerializer, **_errors(400, 401, 429, e400="A field is missing or too long.",
                                                  e401="Wrong username or password.",
                                                  e429="Locked out after too many failed attempts.")},  # fmt: skip
    auth=[],
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@parser_classes([JSONParser, FormParser, MultiPartParser])
def token_obtain(request: Request) -> Response:
    """Returns a new API token for the user (its key is shown only here; the server keeps a hash).

    It expires after API_TOKEN_TTL_DAYS, and at once when the password changes. Failed attempts
    count towards the same lockout as the login page (django-axes).
    """
    data = s.TokenRequestSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    django_request = request._request
    user = authenticate(request=django_request, username=data.validated_data["username"],
                        password=data.validated_data["password"])  # fmt: skip
    if getattr(django_request, "axes_locked_out", False):
        # Answered here in JSON; otherwise AxesMiddleware would swap in the HTML lockout page.
        django_request.axes_locked_out = False
        return Response({"error": "Too many failed attempts: this account is locked for a while. Try again later."},
                        status=status.HTTP_429_TOO_MANY_REQUESTS)  # fmt: skip
    if user is None:
        return Response({"error": "Unable to log in with the given username and password."},
                        status=status.HTTP_401_UNAUTHORIZED, headers={"WWW-Authenticate": "Token"})  # fmt: skip
    token, key = token_create(user=user, request=django_request)
    return Response({"token": key, "expires_at": token.expires_at})


# --- Scans ------------------------------------------------------------------------------------------


class ScanPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request) -> int:
        """DRF quietly ignores a bad page_size; a script should hear about its mistake instead."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ApiValidationError({self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]})
        return int(raw)

    def get_page_number(self, request, paginator) -> int:
        """An empty or non-numeric page is a mistake to report, not page 1 (DRF's default)."""
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if not raw.isdigit() or int(raw) < 1:
            raise ApiValidationError({self.page_query_param: ["A whole number from 1."]})
        return int(raw)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size, default=self.page_size)
        return parameters


class _PaginateGetOnly(AutoSchema):
    """The upload answers a plain list (the batch): only the GET list is paginated."""

    def _get_paginator(self):
        return super()._get_paginator() if self.method == "GET" else None


class ScansView(GenericAPIView):
    schema = _PaginateGetOnly()
    pagination_class = ScanPagination
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = s.ScanSummarySerializer

    @extend_schema(
        tags=["scans"],
        summary="Your scans, newest first",
        description="Single uploads only: a study's slices are listed with their study (GET /api/v1/studies/{id}/).",
        parameters=[s.ScanFilterSerializer],
        responses={200: s.ScanSummarySerializer(many=True), **_errors(400, 401, 404, e404="No such page.")},
        operation_id="v1_scans_list",
    )
    def get(self, request: Request) -> Response:
        params = s.ScanFilterSerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        data = params.validated_data
        filters = HistoryFilters(
            status=data.get("status", ""),
            label=data.get("label", ""),
            state=data.get("state", ""),
            ai_label=data.get("ai_label", ""),
            abstained=data.get("abstained"),
            date_from=data.get("created_after"),
            date_to=data.get("created_before"),
            query=data.get("q", "").strip(),
        )
        page = self.paginate_queryset(scans_history_for_user(user=request.user, filters=filters))
        response = self.get_paginated_response(s.ScanSummarySerializer(page, many=True, context={"request": request}).data)
        response["Cache-Control"] = "private, no-store"
        return response

    @extend_schema(
        tags=["scans"],
        summary="Upload one or more scans (batch)",
        description=(
            "Each file is its own scan, queued for analysis. If any file is refused, the answer is an error "
            "listing each refused file; the accepted files of the batch are kept and listed under `scans`."
        ),
        request={"multipart/form-data": s.UploadRequestSerializer},
        responses={
            201: s.CreatedScanSerializer(many=True),
            400: OpenApiResponse(s.UploadRefusedSerializer, description="A file was refused, or no file was sent."),
            413: OpenApiResponse(s.UploadRefusedSerializer, description="A file is over the size limit."),
            429: OpenApiResponse(s.UploadRefusedSerializer, description="Over the hourly upload quota."),
            503: OpenApiResponse(s.UploadRefusedSerializer, description=(
                "The request reached its decoding budget: the files listed with code `deferred` were not "
                "looked at and nothing was stored for them; send them again (Retry-After says when).")),
            **_errors(401),
        },
        operation_id="v1_scans_create",
    )
    def post(self, request: Request) -> Response:
        try:
            # Multipart gives a QueryDict (one value per part; a batch has one reference); a body-less POST a dict.
            refs = request.data.getlist("patient_ref") if hasattr(request.data, "getlist") else []
            files = request.FILES.getlist("file")
        except TooManyFilesSent:
            return Response({"error": f"Send at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files per request.",
                             "files": [], "scans": []}, status=status.HTTP_400_BAD_REQUEST)  # fmt: skip
        except RequestDataTooBig:  # the form fields besides the files are over DATA_UPLOAD_MAX_MEMORY_SIZE
            return Response({"error": "The request's form fields are too large.", "files": [], "scans": []},
                            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)  # fmt: skip
        fields = s.UploadFieldsSerializer(data={"patient_ref": refs if len(refs) > 1 else (refs or [""])[0]})
        if not fields.is_valid() or not files:
            error = "Send one or more files, each in a part named `file`." if not files else "Invalid input."
            return Response({"error": error, "files": [], "scans": [], **({"fields": fields.errors} if fields.errors else {})},
                            status=status.HTTP_400_BAD_REQUEST)  # fmt: skip
        scans, refused = [], []
        budget = UploadBudget.for_request()
        for uploaded in files:
            try:
                scans.append(scan_ingest(owner=request.user, uploaded_file=uploaded, budget=budget,
                                         patient_reference=fields.validated_data["patient_ref"], request=request._request))  # fmt: skip
            except ScanRejected as rejection:
                refused.append((clean_file_name(uploaded.name or ""), rejection))
        created = s.CreatedScanSerializer(scans, many=True, context={"request": request}).data
        if not refused:
            return Response(created, status=status.HTTP_201_CREATED)
        codes = {rejection.code for _name, rejection in refused}
        code = ("quota" if "quota" in codes else "too_large" if codes == {"too_large"}
                else "deferred" if codes == {"deferred"} else "invalid")  # fmt: skip
        accepted = f" {len(scans)} other file(s) were accepted and kept." if scans else ""
        body = {
            "error": f"{len(refused)} of {len(files)} file(s) were refused.{accepted}",
            "files": [{"name": name, "error": rejection.message, "code": rejection.code} for name, rejection in refused],
            "scans": created,
        }
        # Deferred files were not looked at: the client sends them again (see scripts/neuroscan_client.py).
        headers = {"Retry-After": "1"} if code == "deferred" else None
        return Response(body, status=_REJECTION_STATUS[code], headers=headers)


@extend_schema(tags=["scans"], summary="One scan: status, AI result, reviews and links",
               responses={200: s.ScanDetailSerializer, **_errors(401, 404)})  # fmt: skip
@api_view(["GET"])
def scan_detail(request: Request, scan_id) -> Response:
    scan = _scan_for(request, scan_id)
    prediction = scan_latest_prediction(scan=scan) if scan.status == ScanStatus.DONE else None
    _audit(request, AuditAction.VIEW_RESULT, scan)
    context = {"request": request, "prediction": prediction, "reviews": reviews_for_scan(scan=scan)}
    response = Response(s.ScanDetailSerializer(scan, context=context).data)
    response["Cache-Control"] = "private, no-store"
    return response


@extend_schema(tags=["scans"], summary="The scan as the model reads it (8-bit grey PNG)",
               responses={(200, "image/png"): OpenApiTypes.BINARY, **_errors(401, 404)})  # fmt: skip
@api_view(["GET"])
@content_negotiation_class(IgnoreAcceptHeader)
def scan_image(request: Request, scan_id) -> HttpResponse:
    scan = _scan_for(request, scan_id)
    _audit(request, AuditAction.FETCH_IMAGE, scan)
    return private_file_response(scan.display.name, filename="scan.png")


@extend_schema(tags=["scans"], summary="The Grad-CAM heatmap over the scan (PNG)",
               responses={(200, "image/png"): OpenApiTypes.BINARY,
                          **_errors(401, 404, e404="No such scan, no heatmap yet, or none for a refused image.")})  # fmt: skip
@api_view(["GET"])
@content_negotiation_class(IgnoreAcceptHeader)
def scan_heatmap(request: Request, scan_id) -> HttpResponse:
    scan = _scan_for(request, scan_id)
    prediction = scan_latest_prediction(scan=scan)
    if prediction is None:
        raise NotFound("No heatmap yet: the analysis has not finished.")
    if not prediction.has_heatmap:
        raise NotFound("No heatmap: the model refused this image as not a brain MRI.")
    _audit(request, AuditAction.FETCH_HEATMAP, scan)
    return private_file_response(prediction.heatmap.name, filename="heatmap.png")


@extend_schema(
    tags=["scans"],
    summary="The PDF report of a finished scan",
    parameters=[OpenApiParameter("paper", str, enum=["a4", "letter"], description="Page size (default A4).")],
    responses={(200, "application/pdf"): OpenApiTypes.BINARY, **_errors(400, 401, 404, 409)},
)
@api_view(["GET"])
@content_negotiation_class(IgnoreAcceptHeader)
def scan_report(request: Request, scan_id) -> HttpResponse:
    scan = _scan_for(request, scan_id)
    try:
        report = report_input_for_scan(scan=scan)
    except ReportNotReady as error:
        return Response({"error": str(error)}, status=status.HTTP_409_CONFLICT)
    paper = request.query_params.get("paper", "a4")
    if paper not in ("a4", "letter"):
        raise ApiValidationError({"paper": ["Choose a4 or letter."]})
    pdf = build_report_pdf(report, page_size="Letter" if paper == "letter" else "A4")
    _audit(request, AuditAction.DOWNLOAD_REPORT, scan)
    return private_pdf_response(pdf, filename=report_file_name(scan))


class _BodyRequired(AutoSchema):
    """drf-spectacular cannot tell that a one-of body is required; this one is."""

    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body:
            body["required"] = True
        return body


@extend_schema(
    tags=["reviews"],
    summary="Confirm or override the AI label, or mark the image unusable (the scan's owner or a reviewer)",
    request=PolymorphicProxySerializer(
        component_name="ReviewRequest",
        serializers={"confirmed": s.ConfirmReviewSerializer, "overridden": s.OverrideReviewSerializer,
                     "unusable": s.UnusableReviewSerializer},  # fmt: skip
        resource_type_field_name="decision",
    ),
    responses={201: s.ReviewSerializer, **_errors(400, 401, 404, 409, e409=(
        "The scan cannot take this review now: its analysis has not finished, or the override names the AI's own label."
    ))},  # fmt: skip
)
@api_view(["POST"])
@parser_classes([JSONParser, FormParser, MultiPartParser])
@schema(_BodyRequired())
def scan_review_create(request: Request, scan_id) -> Response:
    scan = _scan_for(request, scan_id)
    data = s.ReviewRequestSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        review = review_create(
            scan=scan,
            reviewer=request.user,
            decision=data.validated_data["decision"],
            override_label=data.validated_data.get("override_label", ""),
            note=data.validated_data.get("note", ""),
            request=request._request,
        )
    except ValidationError as error:
        # The request itself was valid (above): what the service refuses depends on the scan's state.
        return Response({"error": " ".join(error.messages)}, status=status.HTTP_409_CONFLICT)
    return Response(s.ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


# --- Model and health ------------------------------------------------------------------------------------


@extend_schema(tags=["model"], summary="The model card: version, data, metrics, calibration, latency",
               responses={200: OpenApiTypes.OBJECT, **_errors(401, 503, e503="No model card is installed.")})  # fmt: skip
@api_view(["GET"])
def model_card_view(request: Request) -> Response:
    card = model_card()
    if not card:
        return Response({"error": "No model card is installed on this server."}, status=503)
    return Response(card)


@extend_schema(
    tags=["health"],
    summary="Reachability of the database, the broker and the workers",
    responses={200: s.HealthSerializer, 503: OpenApiResponse(s.HealthSerializer, description="Something is down.")},
    auth=[],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def health(request: Request) -> Response:
    checks = health_checks()
    healthy = all(value == OK for value in checks.values())
    response = Response({"status": "ok" if healthy else "unavailable", "checks": checks},
                        status=200 if healthy else 503)  # fmt: skip
    response["Cache-Control"] = "no-store"
    return response
