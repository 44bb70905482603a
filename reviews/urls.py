from django.urls import path

from reviews import views

app_name = "reviews"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("agreement/", views.agreement, name="agreement"),
    path("scans/<uuid:scan_id>/", views.review_submit, name="submit"),
]
