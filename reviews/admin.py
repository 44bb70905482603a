from django.contrib import admin

from reviews.models import Review


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """Read-only: reviews are immutable records; a new review supersedes an old one."""

    list_display = ("created_at", "scan", "reviewer", "decision", "ai_label", "final_label", "model_version")
    list_filter = ("decision", "final_label", "ai_label", "created_at")
    search_fields = ("scan__id", "reviewer__username", "note")
    readonly_fields = [field.name for field in Review._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
