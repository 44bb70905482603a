from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("scans/<uuid:scan_id>/report.pdf", views.report_pdf, name="scan_report"),
    path("studies/<uuid:study_id>/report.pdf", views.study_report_pdf, name="study_report"),
]
