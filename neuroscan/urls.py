from django.contrib import admin
from django.urls import include, path

from neuroscan import views

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon),  # browsers ask for it even with the <link rel="icon">
    path("accounts/", include("accounts.urls")),
    path("scans/", include("scans.urls")),
    path("studies/", include("studies.urls")),
    path("reviews/", include("reviews.urls")),
    path("reports/", include("reports.urls")),
    path("api/", include("api.urls")),
    path("admin/", admin.site.urls),
]

# The database down answers 503 with Retry-After instead of a 500 (neuroscan.failures).
handler500 = "neuroscan.failures.server_error"
