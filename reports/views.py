from django.http import HttpRequest, HttpResponse

from accounts.audit import AuditAction, audit_record
from reports.pdf import build_report_pdf
from reports.services import ReportNotReady, report_file_name, report_input_for_scan
from reports.study_pdf import build_study_report_pdf
from reports.study_services import report_input_for_study, study_report_file_name
from scans.models import Scan
from scans.responses import private_pdf_response
from scans.views import scan_view
from studies.models import Study
from studies.views import study_view


@scan_view(methods=("GET",))
def report_pdf(request: HttpRequest, scan: Scan) -> HttpResponse:
    try:
        report = report_input_for_scan(scan=scan)
    except ReportNotReady as error:
        return HttpResponse(str(error), status=409, content_type="text/plain; charset=utf-8")
    page_size = "Letter" if request.GET.get("paper") == "letter" else "A4"
    pdf = build_report_pdf(report, page_size=page_size)
    audit_record(action=AuditAction.DOWNLOAD_REPORT, actor=request.user, request=request, object_type="scan", object_id=scan.id)
    return private_pdf_response(pdf, filename=report_file_name(scan))


@study_view
def study_report_pdf(request: HttpRequest, study: Study) -> HttpResponse:
    try:
        report = report_input_for_study(study=study)
    except ReportNotReady as error:
        return HttpResponse(str(error), status=409, content_type="text/plain; charset=utf-8")
    page_size = "Letter" if request.GET.get("paper") == "letter" else "A4"
    pdf = build_study_report_pdf(report, page_size=page_size)
    audit_record(action=AuditAction.DOWNLOAD_REPORT, actor=request.user, request=request, object_type="study", object_id=study.id)
    return private_pdf_response(pdf, filename=study_report_file_name(study))
