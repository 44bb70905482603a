"""Gather a finished scan's data into a ReportInput: the only place reports reads the database and storage."""

import json
import re
from functools import lru_cache

from django.core.files.storage import default_storage
from django.utils import timezone

from ml import config as ml_config
from reports.pdf import AnswerSummary, ReportInput, ReviewSummary
from reviews.selectors import reviews_for_scan
from scans.answer import answer_of
from scans.models import Scan, ScanStatus
from scans.selectors import scan_latest_prediction


class ReportNotReady(Exception):
    """The scan has no finished analysis yet."""


def model_card() -> dict:
    """The committed model card (JSON), read without loading TensorFlow in the web process."""
    path = ml_config.WEIGHTS_DIR / ml_config.MODEL_CARD_JSON_NAME
    return _read_model_card(path, path.stat().st_mtime) if path.exists() else {}


@lru_cache(maxsize=2)
def _read_model_card(path, modified: float) -> dict:
    return json.loads(path.read_text())


def report_short_id(scan_id) -> str:
    """A report id a person can read out and type: "NS-" and the scan id's first 8 hex digits, e.g. NS-7F3C-2A10."""
    digits = str(scan_id).replace("-", "").upper()[:8]
    return f"NS-{digits[:4]}-{digits[4:]}"


def file_name_part(text: str) -> str:
    """Letters, digits, '-' and '_' only: safe in every file system and in a Content-Disposition header."""
    kept = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")
    return kept[:40]


def report_file_name(scan: Scan) -> str:
    """e.g. neuroscan-2026-03-01-STUDY-7-NS-7F3C-2A10.pdf: the scan's date, the patient reference, the report id."""
    parts = ["neuroscan", timezone.localtime(scan.created_at).strftime("%Y-%m-%d"), file_name_part(scan.patient_reference),
             report_short_id(scan.id)]  # fmt: skip
    return "-".join(part for part in parts if part) + ".pdf"


def _read(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def report_input_for_scan(*, scan: Scan) -> ReportInput:
    """Everything the PDF shows. `scan` was fetched through scans.selectors.scan_get_for_user."""
    prediction = scan_latest_prediction(scan=scan) if scan.status == ScanStatus.DONE else None
    if prediction is None:
        raise ReportNotReady("The analysis of this scan has not finished yet; the report is ready when it is.")
    answer = answer_of(scan)
    return ReportInput(
        report_id=report_short_id(scan.id),
        scan_id=str(scan.id),
        generated_at=timezone.localtime(),
        patient_ref=scan.patient_reference,
        uploaded_at=timezone.localtime(scan.created_at),
        original_filename=scan.original_name,
        image_width=scan.width,
        image_height=scan.height,
        image_format=scan.get_format_display(),
        label=prediction.label,
        probabilities=prediction.probabilities,
        confidence=prediction.confidence,
        abstained=prediction.abstained,
        abstain_reason=prediction.abstain_reason or None,
        model_version=prediction.model_version,
        image_png=_read(scan.display.name),
        overlay_png=_read(prediction.heatmap.name) if prediction.has_heatmap else None,
        answer=AnswerSummary(state=answer.state, headline=answer.headline, byline=answer.byline, reason=answer.reason),
        refused=prediction.refused_as_not_mri,
        technical_detail=prediction.technical_detail,
        model_card=model_card(),
        reviews=[
            ReviewSummary(
                decision=review.decision,
                final_label=review.final_label,
                reviewer=review.reviewer.get_username(),
                note=review.note,
                reviewed_at=timezone.localtime(review.created_at),
            )
            for review in reviews_for_scan(scan=scan)
        ],
    )
