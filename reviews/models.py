"""A Review is a person's immutable verdict on one AI result: confirmed, or overridden with another class."""

from django.conf import settings
from django.db import models

from neuroscan.append_only import AppendOnlyModel
from scans.models import Prediction, Scan


class ReviewDecision(models.TextChoices):
    CONFIRMED = "confirmed", "Confirm the AI label"
    OVERRIDDEN = "overridden", "Override with another class"
    # The image cannot be read at all: the scan's answer becomes "not analysed", with the reviewer's note.
    UNUSABLE = "unusable", "Not a brain MRI / unusable image"


class Review(AppendOnlyModel):
    # A later review supersedes an earlier one; neither is ever edited or removed.
    scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="reviews")
    prediction = models.ForeignKey(Prediction, on_delete=models.PROTECT, related_name="reviews")
    model_version = models.CharField(max_length=64)  # of the prediction reviewed
    ai_label = models.CharField(max_length=32)  # the prediction's label as stored, even for a refusal
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    decision = models.CharField(max_length=16, choices=ReviewDecision.choices)
    final_label = models.CharField(max_length=32, blank=True)  # "" when the decision is "unusable"
    note = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["scan", "created_at"], name="review_scan_created")]

    def __str__(self) -> str:
        return f"Review of scan {self.scan_id}: {self.decision} {self.final_label}"
