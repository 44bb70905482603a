from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("scans/<uuid:scan_id>/report.pdf", views.report_pdf, name="scan_report"),
]
