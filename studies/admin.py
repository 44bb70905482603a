"""Studies in the admin: metadata only (no pixels, no de-identified file names to open), read-only.

Studies come in through study_ingest, which validates and de-identifies; reviews are append-only
records (studies.reviews) that a new review supersedes.
"""

from django.contrib import admin

from neuroscan.admin import ReadOnlyAdmin, ReadOnlyInline
from studies.models import Series, Study, StudyReview


class SeriesInline(ReadOnlyInline):
    model = Series
    fields = ("number", "description", "modality", "parameters")


class StudyReviewInline(ReadOnlyInline):
    model = StudyReview
    fields = ("created_at", "reviewer", "decision", "ai_finding", "final_finding", "note")


@admin.register(Study)
class StudyAdmin(ReadOnlyAdmin):
    list_display = ("id", "owner", "source", "status", "created_at", "summarised_at")
    list_filter = ("status", "source", "created_at")
    search_fields = ("id", "owner__username", "patient_reference")
    date_hierarchy = "created_at"
    inlines = [SeriesInline, StudyReviewInline]


@admin.register(StudyReview)
class StudyReviewAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "study", "reviewer", "decision", "ai_finding", "final_finding")
    list_filter = ("decision", "final_finding", "ai_finding", "created_at")
    search_fields = ("study__id", "reviewer__username", "note")
