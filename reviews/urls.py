from django.urls import path

from reviews import views

app_name = "reviews"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("agreement/", views.agreement, name="agreement"),
    path("agreement.csv", views.agreement_csv, name="agreement_csv"),
    path("scans/<uuid:scan_id>/", views.review_submit, name="submit"),
]
