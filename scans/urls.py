from django.urls import path

from scans import views

app_name = "scans"

urlpatterns = [
    path("", views.history, name="history"),
    path("upload/", views.upload, name="upload"),
    path("statuses/", views.statuses, name="statuses"),
    path("<uuid:scan_id>/", views.detail, name="detail"),
    path("<uuid:scan_id>/status/", views.status, name="status"),
    path("<uuid:scan_id>/image/", views.image, name="image"),
    path("<uuid:scan_id>/thumbnail/", views.thumbnail, name="thumbnail"),
    path("<uuid:scan_id>/heatmap/", views.heatmap, name="heatmap"),
    path("<uuid:scan_id>/heat/", views.heat, name="heat"),
    path("<uuid:scan_id>/retry/", views.retry, name="retry"),
]
