"""A Study is one examination (a DICOM study or one NIfTI volume); its Series own ordered slices.

Each slice is an ordinary scans.Scan, analysed exactly as a single upload is. The link lives here
(StudySlice), so scans know nothing of studies: arrows run studies -> scans -> ml.
Nothing that identifies a patient is kept: the Study/Series Instance UIDs only as keyed hashes
(studies.identity), and only the reading parameters of a series, never its free text beyond the
series description.
"""

import uuid

from django.conf import settings
from django.db import models

from neuroscan.append_only import AppendOnlyModel
from reviews.models import ReviewDecision
from scans.models import Scan


class StudySource(models.TextChoices):
    DICOM = "dicom", "DICOM series"
    NIFTI = "nifti", "NIfTI volume"


class StudyStatus(models.TextChoices):
    ANALYSING = "analysing", "Analysing"  # some slice is still queued or processing
    DONE = "done", "Done"  # every slice finished (done or failed) and the summary is written


class Study(models.Model):
    # The public id in every URL: not guessable, not a count.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="studies")
    source = models.CharField(max_length=8, choices=StudySource.choices)
    # What the user called the upload (a zip's or volume's file name, or "12 DICOM files"): display only.
    original_name = models.CharField(max_length=255)
    # HMAC-SHA256 (studies.identity) of the Study Instance UID; empty for a NIfTI volume.
    study_uid_hash = models.CharField(max_length=64, blank=True)
    patient_reference = models.CharField(max_length=64, blank=True)
    note = models.CharField(max_length=500, blank=True)
    # Files of the upload that were not kept, each {"name", "error"}: shown to the user, never a path.
    skipped = models.JSONField(default=list, blank=True)

    status = models.CharField(max_length=16, choices=StudyStatus.choices, default=StudyStatus.ANALYSING)
    # Written once, when the last slice has finished; None before.
    summary = models.JSONField(null=True, blank=True)
    summarised_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "studies"
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="study_owner_created"),
            # The sweep: studies still analysing.
            models.Index(fields=["status", "created_at"], name="study_status_created"),
        ]

    def __str__(self) -> str:
        return f"Study {self.id} ({self.status})"


class Series(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="series")
    number = models.PositiveIntegerField()  # 1-based order within the study (DICOM Series Number order)
    series_uid_hash = models.CharField(max_length=64, blank=True)  # HMAC of the Series Instance UID
    description = models.CharField(max_length=64, blank=True)  # e.g. "AX T2 FLAIR"
    modality = models.CharField(max_length=16, blank=True)
    # Reading parameters only (echo/repetition/inversion time, slice thickness, spacing, field strength...).
    parameters = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["study", "number"]
        verbose_name_plural = "series"
        constraints = [models.UniqueConstraint(fields=["study", "number"], name="series_number_unique")]

    def __str__(self) -> str:
        return f"Series {self.number} of study {self.study_id}"


class StudySlice(models.Model):
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="slices")
    scan = models.OneToOneField(Scan, on_delete=models.PROTECT, related_name="study_slice")
    position = models.PositiveIntegerField()  # 0-based, in display order (inferior to superior when known)
    # Millimetres along the series' slice normal (DICOM Image Position (Patient)), when known.
    location_mm = models.FloatField(null=True, blank=True)
    instance_number = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["series", "position"]
        constraints = [models.UniqueConstraint(fields=["series", "position"], name="study_slice_position_unique")]

    def __str__(self) -> str:
        return f"Slice {self.position} of series {self.series_id}"


class StudyFinding(models.TextChoices):
    """What a person can say about a whole study (the summary's states, less "needs review": a reader decides)."""

    TUMOUR_FINDING = "tumour_finding", "Tumour finding"
    NO_TUMOUR = "no_tumour", "No tumour on every analysed slice"
    NOT_ANALYSED = "not_analysed", "Not analysed"


class StudyReview(AppendOnlyModel):
    """A person's immutable verdict on a study's finding; a later one supersedes an earlier one.

    Decisions as for a scan (reviews.ReviewDecision): confirm the finding the slices' answers add up
    to, override it with another, or "unusable" (the study cannot be read: its finding is "not analysed").
    """

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="study_reviews")
    decision = models.CharField(max_length=16, choices=ReviewDecision.choices)
    # The study's finding from its slices' answers when the review was given (studies.summary.study_state).
    ai_finding = models.CharField(max_length=32)
    final_finding = models.CharField(max_length=32, choices=StudyFinding.choices)
    note = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["study", "created_at"], name="study_review_study_created")]

    def __str__(self) -> str:
        return f"Review of study {self.study_id}: {self.decision} {self.final_finding}"
