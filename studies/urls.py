from django.urls import path

from studies import views

app_name = "studies"

urlpatterns = [
    path("", views.study_list, name="list"),
    path("upload/", views.upload, name="upload"),
    path("<uuid:study_id>/", views.detail, name="detail"),
    path("<uuid:study_id>/status/", views.status, name="status"),
    path("<uuid:study_id>/reviews/", views.review_submit, name="review"),
]
