"""Gather a summarised study's data into a StudyReportInput: the only place the study report reads the database and storage."""

from django.core.files.storage import default_storage
from django.utils import timezone

from ml.wording import NOT_MRI
from reports.services import ReportNotReady, file_name_part, model_card, report_short_id
from reports.study_pdf import KeySlice, SeriesStrip, StudyReportInput, StudyReviewLine
from scans.answer import AnswerState, answer_of
from scans.labels import label_name
from scans.models import ScanStatus
from scans.selectors import scan_latest_prediction
from studies.answer import finding_name, review_summary, study_answer
from studies.models import Study
from studies.selectors import study_reviews, study_series
from studies.summary import TUMOUR_CLASSES, label_counts_in_order, study_slices_with_answers, tumour_probability


def study_report_short_id(study_id) -> str:
    """'NS-S-7F3C-2A10': like a scan's report id, marked as a study's."""
    return report_short_id(study_id).replace("NS-", "NS-S-", 1)


def study_report_file_name(study: Study) -> str:
    """e.g. neuroscan-study-2026-03-01-STUDY-7-NS-S-7F3C-2A10.pdf."""
    parts = ["neuroscan-study", timezone.localtime(study.created_at).strftime("%Y-%m-%d"),
             file_name_part(study.patient_reference), study_report_short_id(study.id)]  # fmt: skip
    return "-".join(part for part in parts if part) + ".pdf"


def _read(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def _summary_rows(summary: dict) -> list[tuple[str, str]]:
    labels = ", ".join(f"{label_name(label)} {count}" for label, count in label_counts_in_order(summary))
    states = summary["state_counts"]
    rows = [("Slices", str(summary["slices"])), ("Slice answers", labels)]
    others = [(AnswerState.NEEDS_REVIEW, "needs review"), (AnswerState.NOT_ANALYSED, "not analysed"), (AnswerState.FAILED, "failed")]
    if any(states.get(state) for state, _words in others):
        rows.append(("Other slices", ", ".join(f"{words} {states[state]}" for state, words in others if states.get(state))))
    rows.append(("Model", ", ".join(summary.get("model_versions") or []) or "—"))
    return rows


def _key_slices(summary: dict, scans_by_id: dict) -> list[KeySlice]:
    """The first of each tumour class's top slices, each slice once (one may top several classes)."""
    chosen: dict[str, list] = {}
    for name in TUMOUR_CLASSES:
        entries = summary["top_slices"].get(name) or []
        if entries:
            chosen.setdefault(entries[0]["scan_id"], []).append((name, entries[0]))
    key_slices = []
    for scan_id, picks in chosen.items():
        scan = scans_by_id[scan_id]
        prediction = scan_latest_prediction(scan=scan)
        heatmap = prediction.heatmap.name if prediction is not None and prediction.has_heatmap else ""
        key_slices.append(KeySlice(
            ranks=tuple((name, entry["probability"]) for name, entry in picks),
            series=picks[0][1]["series"],
            position=picks[0][1]["position"],
            answer=answer_of(scan).short,
            image_png=_read(scan.display.name),
            overlay_png=_read(heatmap) if heatmap else None,
        ))  # fmt: skip
    return key_slices


def report_input_for_study(*, study: Study) -> StudyReportInput:
    """Everything the study PDF shows. `study` was fetched through studies.selectors.study_get_for_user."""
    if study.summary is None:
        raise ReportNotReady("The study's slices have not all been analysed yet; the report is ready when they are.")
    answer = study_answer(study=study)
    scans = list(study_slices_with_answers(study=study))
    by_series: dict[int, list[float | None]] = {}
    for scan in scans:
        # A refusal's probabilities are no reading of a brain: drawn as "no reading", like a failure.
        read = scan.status == ScanStatus.DONE and scan.latest_abstain_kind != NOT_MRI
        by_series.setdefault(scan.study_slice.series.number, []).append(tumour_probability(scan.latest_probabilities) if read else None)
    changed = ""
    if answer.summary_changed:
        changed = (f"Slice reviews given after the summary was written make the slices' answers add up to "
                   f"{finding_name(answer.slices_finding)} (the summary said {finding_name(answer.recorded_finding)}).")  # fmt: skip
    summary = study.summary
    return StudyReportInput(
        report_id=study_report_short_id(study.id),
        study_id=str(study.id),
        generated_at=timezone.localtime(),
        patient_ref=study.patient_reference,
        uploaded_at=timezone.localtime(study.created_at),
        original_name=study.original_name,
        source=study.get_source_display(),
        headline=answer.headline,
        byline=answer.byline,
        summary_state=finding_name(summary["state"]),
        summary_rows=_summary_rows(summary),
        summarised_at=timezone.localtime(study.summarised_at) if study.summarised_at else None,
        summary_changed=changed,
        strips=[SeriesStrip(number=row.number, description=row.description, probabilities=by_series.get(row.number, []))
                for row in study_series(study=study)],  # fmt: skip
        key_slices=_key_slices(summary, {str(scan.id): scan for scan in scans}),
        reviews=[
            StudyReviewLine(decision=review.decision, summary=review_summary(review), reviewer=review.reviewer.get_username(),
                            note=review.note, reviewed_at=timezone.localtime(review.created_at))  # fmt: skip
            for review in study_reviews(study=study)
        ],
        model_version=", ".join(summary.get("model_versions") or []),
        model_card=model_card(),
    )
