"""The PDF report of one summarised study: a pure function, data in, bytes out.

Built from the scan report's blocks (reports.pdf): the same layout, styles, tables, heatmap colour
scale, signature lines and model summary. `reports.study_services` gathers the input.
"""

import io
from dataclasses import dataclass, field
from datetime import datetime

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table, TableStyle

from ml.wording import format_probability
from reports.pdf import (
    NOT_A_DIAGNOSIS,
    PORTAL_NAME,
    NumberedCanvas,
    colour_scale,
    escape,
    fit_image,
    key_value_table,
    model_summary,
    page_footer,
    report_document,
    report_styles,
    signature_block,
    when,
)
from scans.labels import label_name


@dataclass(frozen=True)
class KeySlice:
    """A slice with the highest AI probability of one or more tumour classes."""

    ranks: tuple[tuple[str, float], ...]  # (tumour class, AI probability) for each class it ranks first for
    series: int
    position: int  # 0-based
    answer: str  # the slice's own answer (scans.answer), e.g. "Glioma · AI, 91 %"
    image_png: bytes
    overlay_png: bytes | None  # None where there is no heatmap to show


@dataclass(frozen=True)
class SeriesStrip:
    """One series' tumour probability (1 - p(no tumour)) per slice, in display order; None: no AI reading."""

    number: int
    description: str
    probabilities: list[float | None]


@dataclass(frozen=True)
class StudyReviewLine:
    decision: str  # reviews.ReviewDecision
    summary: str  # "Overridden: No tumour on every analysed slice"
    reviewer: str
    note: str
    reviewed_at: datetime


@dataclass(frozen=True)
class StudyReportInput:
    report_id: str  # e.g. "NS-ST-7F3C-2A10"
    study_id: str
    generated_at: datetime  # timezone-aware
    patient_ref: str
    uploaded_at: datetime
    original_name: str
    source: str  # "DICOM series", "NIfTI volume"
    headline: str  # the study's answer (studies.answer)
    byline: str
    summary_state: str  # the stored summary's state, in words
    summary_rows: list[tuple[str, str]]  # counts per label and state, as recorded
    summarised_at: datetime | None
    summary_changed: str = ""  # a sentence when later slice reviews changed what the slices add up to
    strips: list[SeriesStrip] = field(default_factory=list)
    key_slices: list[KeySlice] = field(default_factory=list)
    reviews: list[StudyReviewLine] = field(default_factory=list)  # oldest first; the last one stands
    model_version: str = ""
    model_card: dict = field(default_factory=dict)


def build_study_report_pdf(report: StudyReportInput, *, page_size: str = "A4") -> bytes:
    """Lay out the study report on A4 or Letter and return the PDF bytes."""
    if report.generated_at.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware")
    buffer = io.BytesIO()
    document = report_document(buffer, page_size=page_size, report_id=report.report_id)
    styles = report_styles()
    reviewer = report.reviews[-1].reviewer if report.reviews else ""
    story = [
        Paragraph(f"{PORTAL_NAME} — brain MRI study report", styles["title"]),
        Paragraph(f"Report {report.report_id} · generated {when(report.generated_at)}", styles["small"]),
        *_answer(report, styles),
        *_study_details(report, styles),
        *_summary(report, styles),
        *_strips(report, styles, document.width),
        *_key_slices(report, styles, document.width),
        *_reviews(report, styles),
        signature_block(reviewer, styles, document.width),
        *model_summary(report.model_card, report.model_version, styles),
        Spacer(1, 4 * mm),
        Paragraph(NOT_A_DIAGNOSIS, styles["notice"]),
    ]
    footer = page_footer(report.report_id, f"study {report.study_id}")
    document.build(story, onFirstPage=footer, onLaterPages=footer, canvasmaker=NumberedCanvas)
    return buffer.getvalue()


def _answer(report: StudyReportInput, styles) -> list:
    parts = [Paragraph("Answer", styles["h2"]), Paragraph(escape(report.headline), styles["answer"])]
    if report.byline:
        parts.append(Paragraph(escape(report.byline[0].upper() + report.byline[1:]), styles["body"]))
    if report.summary_changed:
        parts.append(Paragraph(escape(report.summary_changed), styles["grey"]))
    return parts


def _study_details(report: StudyReportInput, styles) -> list:
    rows = [
        ("Patient reference", escape(report.patient_ref) or "— (none given)"),
        ("Uploaded", when(report.uploaded_at)),
        ("Upload", f"{escape(report.original_name)} ({escape(report.source)})"),
    ]
    for strip in report.strips:
        rows.append((f"Series {strip.number}", f"{escape(strip.description) or '—'}, {len(strip.probabilities)} slices"))
    return [Paragraph("Study", styles["h2"]), key_value_table(rows, styles)]


def _summary(report: StudyReportInput, styles) -> list:
    written = f", {when(report.summarised_at)}" if report.summarised_at else ""
    rows = [("Finding", f"<b>{escape(report.summary_state)}</b>"), *report.summary_rows]
    return [Paragraph(f"AI summary (written when the last slice finished{written})", styles["h2"]), key_value_table(rows, styles)]


def _strips(report: StudyReportInput, styles, width: float) -> list:
    parts = [Paragraph("Tumour probability along the series", styles["h2"]),
             Paragraph("The AI's tumour probability (1 − p(no tumour)) of each slice, feet to head where known; "
                       "grey: no AI reading (refused or failed).", styles["small"])]  # fmt: skip
    for strip in report.strips:
        title = f"Series {strip.number}" + (f": {escape(strip.description)}" if strip.description else "")
        parts.append(KeepTogether([Paragraph(title, styles["body"]), strip_chart(strip.probabilities, width)]))
    return parts


def strip_chart(probabilities: list[float | None], width: float, height: float = 30 * mm) -> Drawing:
    """One bar per slice, 0 to 100 %, with a dashed line at 50 %; a slice with no reading is a grey stub."""
    drawing = Drawing(width, height)
    left, bottom, top = 12 * mm, 6 * mm, 3 * mm
    plot_width, plot_height = width - left - 2 * mm, height - bottom - top
    drawing.add(Rect(left, bottom, plot_width, plot_height, fillColor=colors.HexColor("#f8f9fa"), strokeColor=colors.grey, strokeWidth=0.4))
    for value, text in ((0.0, "0 %"), (0.5, "50 %"), (1.0, "100 %")):
        drawing.add(String(left - 1.5 * mm, bottom + value * plot_height - 1 * mm, text, fontSize=6.5, textAnchor="end"))
    middle = Line(left, bottom + plot_height / 2, left + plot_width, bottom + plot_height / 2, strokeColor=colors.grey, strokeWidth=0.4)
    middle.strokeDashArray = [2, 2]
    drawing.add(middle)
    count = max(len(probabilities), 1)
    step = plot_width / count
    for index, probability in enumerate(probabilities):
        x = left + index * step + step * 0.1
        if probability is None:
            drawing.add(Rect(x, bottom, step * 0.8, 1 * mm, fillColor=colors.HexColor("#adb5bd"), strokeColor=None))
            continue
        colour = colors.HexColor("#dc3545") if probability >= 0.5 else colors.HexColor("#0d6efd")
        drawing.add(Rect(x, bottom, step * 0.8, max(probability * plot_height, 0.3), fillColor=colour, strokeColor=None))
    drawing.add(String(left, 1 * mm, "slice 1", fontSize=6.5, textAnchor="start"))
    drawing.add(String(left + plot_width, 1 * mm, f"slice {len(probabilities)}", fontSize=6.5, textAnchor="end"))
    return drawing


def _key_slices(report: StudyReportInput, styles, width: float) -> list:
    parts = [Paragraph("Key slices", styles["h2"])]
    if not report.key_slices:
        return parts + [Paragraph("No slice was read by the AI: there are no key slices.", styles["body"])]
    parts.append(Paragraph("The slice with the highest AI probability of each tumour class, with its Grad-CAM heatmap.", styles["small"]))
    cell = (width - 6 * mm) / 2
    for key in report.key_slices:
        ranks = ", ".join(f"highest {label_name(name)} probability ({format_probability(p)})" for name, p in key.ranks)
        title = f"Series {key.series}, slice {key.position + 1} — {escape(ranks)}. Slice answer: {escape(key.answer)}"
        original = fit_image(key.image_png, cell, 55 * mm)
        overlay = fit_image(key.overlay_png, cell, 55 * mm) if key.overlay_png else Paragraph("No heatmap.", styles["small"])
        grid = Table([[original, overlay]], colWidths=[cell + 3 * mm, cell + 3 * mm])
        grid.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "CENTER"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        parts.append(KeepTogether([Paragraph(title, styles["body"]), grid]))
    parts.append(colour_scale(width))
    return parts


def _reviews(report: StudyReportInput, styles) -> list:
    parts = [Paragraph("Review of the study", styles["h2"])]
    if not report.reviews:
        return parts + [Paragraph("Not reviewed. The study's finding has not been checked by a person.", styles["body"])]
    standing = report.reviews[-1]
    parts.append(key_value_table([
        ("Standing review", f"<b>{escape(standing.summary)}</b>"),
        ("Reviewer", escape(standing.reviewer)),
        ("Reviewed", when(standing.reviewed_at)),
        ("Note", escape(standing.note) or "—"),
    ], styles))  # fmt: skip
    for earlier in reversed(report.reviews[:-1]):
        parts.append(Paragraph(
            f"Superseded: {escape(earlier.summary)} by {escape(earlier.reviewer)}, {when(earlier.reviewed_at)}"
            + (f" — {escape(earlier.note)}" if earlier.note else ""), styles["small"]))  # fmt: skip
    return parts
