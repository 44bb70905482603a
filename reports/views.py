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


def _pdf_download(request: HttpRequest, make_input, build, *, object_type: str, object_id, filename: str) -> HttpResponse:
    """The report as a private download (409 until it can be written), audited; A4 unless ?paper=letter."""
    try:
        report = make_input()
    except ReportNotReady as error:
        return HttpResponse(str(error), status=409, content_type="text/plain; charset=utf-8")
    pdf = build(report, page_size="Letter" if request.GET.get("paper") == "letter" else "A4")
    audit_record(action=AuditAction.DOWNLOAD_REPORT, actor=request.user, request=request, object_type=object_type, object_id=object_id)
    return private_pdf_response(pdf, filename=filename)


@scan_view(methods=("GET",))
def report_pdf(request: HttpRequest, scan: Scan) -> HttpResponse:
    return _pdf_download(request, lambda: report_input_for_scan(scan=scan), build_report_pdf,
                         object_type="scan", object_id=scan.id, filename=report_file_name(scan))  # fmt: skip


@study_view
def study_report_pdf(request: HttpRequest, study: Study) -> HttpResponse:
    return _pdf_download(request, lambda: report_input_for_study(study=study), build_study_report_pdf,
                         object_type="study", object_id=study.id, filename=study_report_file_name(study))  # fmt: skip
