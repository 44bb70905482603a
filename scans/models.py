"""A Scan is one uploaded 2-D slice; a Prediction is one model version's answer for it."""

import uuid

from django.conf import settings
from django.db import models

from ml.wording import NOT_MRI


class ScanStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ScanFormat(models.TextChoices):
    JPEG = "jpeg", "JPEG"
    PNG = "png", "PNG"
    BMP = "bmp", "BMP"
    TIFF = "tiff", "TIFF"
    DICOM = "dicom", "DICOM"


class Scan(models.Model):
    # The public id in every URL: not guessable, not a count of the portal's scans.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="scans")
    # What the user called the file: shown to them, never used as a path.
    original_name = models.CharField(max_length=255)
    # Stored under server-generated names in private storage (see scans.storage).
    file = models.FileField(max_length=255)  # a raster's pixels re-encoded as PNG; DICOM after de-identification
    display = models.FileField(max_length=255)  # 8-bit PNG the browser shows and the model reads
    thumbnail = models.FileField(max_length=255)
    sha256 = models.CharField(max_length=64)  # of the stored file
    # Of the bytes as uploaded: the same file again from its owner is answered with this scan (idempotent uploads).
    upload_sha256 = models.CharField(max_length=64, blank=True, default="")
    size_bytes = models.PositiveBigIntegerField()
    format = models.CharField(max_length=8, choices=ScanFormat.choices)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    deidentified = models.BooleanField(default=False)  # DICOM attributes removed before storage
    patient_reference = models.CharField(max_length=64, blank=True)
    note = models.CharField(max_length=500, blank=True)
    # One slice of a larger upload (a study), set at ingest: listed, counted and rate-limited with
    # that upload, not as a scan of its own (scans.selectors.single_uploads). Its owner's and
    # reviewers' access to it is the same as to any scan.
    part_of_study = models.BooleanField(default=False)

    status = models.CharField(max_length=16, choices=ScanStatus.choices, default=ScanStatus.QUEUED)
    failure_reason = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)  # how many times a worker started it

    created_at = models.DateTimeField(auto_now_add=True)  # uploaded, i.e. queued
    # Last successful hand-over to the broker; NULL while no message is known to be on its way.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)  # done or failed
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # History, its counts and the upload quota: one user's single uploads (not study slices), newest first.
            models.Index(fields=["owner", "part_of_study", "-created_at"], name="scan_owner_single_created"),
            models.Index(fields=["owner", "status", "-created_at"], name="scan_owner_status"),
            # The sweep: unfinished scans, oldest first.
            models.Index(fields=["status", "created_at"], name="scan_status_created"),
            # Idempotent uploads: the owner's recent scan of the same bytes.
            models.Index(fields=["owner", "upload_sha256", "created_at"], name="scan_owner_upload_sha"),
        ]

    def __str__(self) -> str:
        return f"Scan {self.id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ScanStatus.DONE, ScanStatus.FAILED)


class Prediction(models.Model):
    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="predictions")
    model_version = models.CharField(max_length=64)
    label = models.CharField(max_length=32)
    probabilities = models.JSONField()  # calibrated, {class name: probability}
    confidence = models.FloatField()
    abstained = models.BooleanField(default=False)
    abstain_reason = models.CharField(max_length=500, blank=True)  # a plain sentence for a clinician (ml.wording)
    # Why the model gave no plain answer: one of ml.wording.ABSTAIN_KINDS, "" when it did not abstain.
    # "not_mri" is a refusal: the image was not judged, so its label and probabilities are no finding.
    abstain_kind = models.CharField(max_length=32, blank=True)
    technical_detail = models.CharField(max_length=500, blank=True)  # distances and thresholds, for the record
    # Grad-CAM overlay, PNG. Blank for a refusal: none is made, as it would look like a finding (migration
    # 0009 deleted those that refusals made before 0008 kept).
    heatmap = models.FileField(max_length=255, blank=True)
    # The Grad-CAM heat itself, 8-bit grey PNG at the image's size (0 = no influence, 255 = most):
    # the result page draws "hottest region only" from it. Blank for predictions made before it existed.
    heat = models.FileField(max_length=255, blank=True)
    timings_ms = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A second run of the same model on the same scan must not add a second answer.
            models.UniqueConstraint(fields=["scan", "model_version"], name="prediction_one_per_scan_and_model"),
        ]
        indexes = [
            models.Index(fields=["scan", "-created_at"], name="prediction_scan_created"),
            models.Index(fields=["label"], name="prediction_label"),
        ]

    @property
    def refused_as_not_mri(self) -> bool:
        return self.abstain_kind == NOT_MRI

    @property
    def has_heatmap(self) -> bool:
        """False for a refusal: a heat map over an image the model did not judge would look like a finding."""
        return not self.refused_as_not_mri and bool(self.heatmap)

    def __str__(self) -> str:
        return f"Prediction {self.label} for scan {self.scan_id} ({self.model_version})"


class AnalyserProcess(models.Model):
    """A worker process that has loaded the model and can analyse now (one row per process).

    Written by the worker when a pool process has loaded and warmed the model, removed when it
    stops (and, for processes killed without a goodbye, when a worker starts again on the same
    machine). The result page reads it to say "the analysis service is starting" instead of
    leaving a queued scan unexplained.
    """

    hostname = models.CharField(max_length=255)  # the machine's name
    pid = models.PositiveIntegerField()
    model_version = models.CharField(max_length=64)
    ready_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hostname", "pid"], name="analyser_one_row_per_process")]

    def __str__(self) -> str:
        return f"Analyser {self.hostname}:{self.pid} ({self.model_version})"
