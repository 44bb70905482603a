from django.contrib import admin

from neuroscan.admin import ReadOnlyAdmin
from scans.models import Prediction, Scan


class PredictionInline(admin.TabularInline):
    model = Prediction
    extra = 0
    can_delete = False
    fields = ("model_version", "label", "confidence", "abstained", "abstain_kind", "abstain_reason", "technical_detail", "created_at")
    readonly_fields = fields


@admin.register(Scan)
class ScanAdmin(admin.ModelAdmin):
    """Metadata only: no image previews here, and files cannot be replaced from the admin."""

    list_display = ("id", "owner", "status", "format", "width", "height", "deidentified", "created_at")
    list_filter = ("status", "format", "deidentified", "created_at")
    search_fields = ("id", "owner__username", "patient_reference", "original_name")
    date_hierarchy = "created_at"
    inlines = [PredictionInline]
    readonly_fields = (
        "id", "owner", "original_name", "file", "display", "thumbnail", "sha256", "size_bytes", "format", "width",
        "height", "deidentified", "created_at", "enqueued_at", "processing_started_at", "finished_at", "updated_at",
        "attempts",
    )  # fmt: skip

    def has_add_permission(self, request) -> bool:
        return False  # scans come in through the upload service, which validates and de-identifies


@admin.register(Prediction)
class PredictionAdmin(ReadOnlyAdmin):
    list_display = ("scan", "model_version", "label", "confidence", "abstained", "created_at")
    list_filter = ("label", "abstained", "abstain_kind", "model_version")
    search_fields = ("scan__id",)
