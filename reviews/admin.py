from django.contrib import admin

from reviews.models import Review
from neuroscan.admin import ReadOnlyAdmin


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    """Read-only: reviews are immutable records; a new review supersedes an old one."""

    list_display = ("created_at", "scan", "reviewer", "decision", "ai_label", "final_label", "model_version")
    list_filter = ("decision", "final_label", "ai_label", "created_at")
    search_fields = ("scan__id", "reviewer__username", "note")
