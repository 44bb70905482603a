from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import errors, studies, views

app_name = "api"

urlpatterns = [
    path("v1/auth/token/", views.token_obtain, name="token"),
    path("v1/scans/", views.ScansView.as_view(), name="scans"),
    path("v1/scans/<uuid:scan_id>/", views.scan_detail, name="scan-detail"),
    path("v1/scans/<uuid:scan_id>/image", views.scan_image, name="scan-image"),
    path("v1/scans/<uuid:scan_id>/heatmap", views.scan_heatmap, name="scan-heatmap"),
    path("v1/scans/<uuid:scan_id>/report", views.scan_report, name="scan-report"),
    path("v1/scans/<uuid:scan_id>/reviews/", views.scan_review_create, name="scan-reviews"),
    path("v1/studies/", studies.StudiesView.as_view(), name="studies"),
    path("v1/studies/<uuid:study_id>/", studies.study_detail, name="study-detail"),
    path("v1/studies/<uuid:study_id>/report", studies.study_report, name="study-report"),
    path("v1/studies/<uuid:study_id>/reviews/", studies.study_reviews_view, name="study-reviews"),
    path("v1/model/", views.model_card_view, name="model"),
    path("v1/health/", views.health, name="health"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file of its own: no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"), name="docs"),
    # Last: any other URL under /api/ is a JSON 404, whatever the method.
    re_path(r"^[\s\S]*$", errors.not_found),
]
