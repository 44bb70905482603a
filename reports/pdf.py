"""The PDF report of one finished scan: a pure function, data in, bytes out.

`build_report_pdf` knows nothing of requests, models or storage; `reports.views`
gathers a `ReportInput` through the scans selectors and streams the bytes. The public
building blocks (layout, styles, tables, images, review signature, model summary) are
shared with the study report (reports.study_pdf).
"""

import io
from dataclasses import dataclass, field
from datetime import datetime

import cv2
import numpy as np
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ml.wording import format_probability
from neuroscan.timefmt import format_datetime
from reports.limitations import clinician_limitations
from scans.labels import label_name

PORTAL_NAME = "NeuroScan"
PAGE_SIZES = {"A4": A4, "Letter": LETTER}
NOT_A_DIAGNOSIS = (
    "Not a diagnosis. This result comes from a machine-learning model trained on public research "
    "images. It is an aid for trained readers, may be wrong, and must be checked by a qualified "
    "clinician before any decision about a patient."
)


@dataclass(frozen=True)
class ReviewSummary:
    decision: str  # "confirmed" or "overridden"
    final_label: str
    reviewer: str
    note: str
    reviewed_at: datetime


@dataclass(frozen=True)
class AnswerSummary:
    """The scan's answer as scans.answer words it: what the report's first section says."""

    state: str  # analysed / needs_review / not_analysed
    headline: str  # "Glioma", "Not analysed — this does not look like a brain MRI"
    byline: str = ""  # "reviewed by bob, 1 Dec 18:33; the AI suggested No tumour detected, > 99 %"
    reason: str = ""  # the plain reason when there is no plain answer


@dataclass(frozen=True)
class ReportInput:
    report_id: str  # short and readable, e.g. "NS-7F3C-2A10"
    generated_at: datetime  # timezone-aware
    patient_ref: str  # as typed by the user; never DICOM attributes
    uploaded_at: datetime
    original_filename: str
    image_width: int
    image_height: int
    image_format: str
    label: str
    probabilities: dict[str, float]
    confidence: float
    abstained: bool
    abstain_reason: str | None
    model_version: str
    image_png: bytes  # the displayable original
    overlay_png: bytes | None  # the Grad-CAM overlay at the same size; None for a refusal, which has none
    answer: AnswerSummary
    model_card: dict = field(default_factory=dict)
    reviews: list[ReviewSummary] = field(default_factory=list)  # oldest first; the last one stands
    refused: bool = False  # the model refused the image as not a brain MRI: no label, no chart, no heatmap
    technical_detail: str = ""  # the numbers behind an abstention, for the record
    scan_id: str = ""  # the full id, in the footer, for exact tracing


def build_report_pdf(report: ReportInput, *, page_size: str = "A4") -> bytes:
    """Lay out the report on A4 or Letter and return the PDF bytes."""
    if report.generated_at.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware")
    buffer = io.BytesIO()
    document = report_document(buffer, page_size=page_size, report_id=report.report_id)
    styles = report_styles()
    story = [
        *_header(report, styles),
        *_answer(report, styles),
        *_scan_details(report, styles),
        *_ai_result(report, styles, document.width),
        *_images(report, styles, document.width),
        *_review(report, styles),
        signature_block(report.reviews[-1].reviewer if report.reviews else "", styles, document.width),
        *model_summary(report.model_card, report.model_version, styles),
        Spacer(1, 4 * mm),
        Paragraph(NOT_A_DIAGNOSIS, styles["notice"]),
    ]
    footer = page_footer(report.report_id, f"scan {report.scan_id}" if report.scan_id else "")
    document.build(story, onFirstPage=footer, onLaterPages=footer, canvasmaker=NumberedCanvas)
    return buffer.getvalue()


def report_document(buffer: io.BytesIO, *, page_size: str, report_id: str) -> SimpleDocTemplate:
    """The page layout every NeuroScan report shares (A4 or Letter)."""
    if page_size not in PAGE_SIZES:
        raise ValueError(f"page_size must be one of {sorted(PAGE_SIZES)}, not {page_size!r}")
    return SimpleDocTemplate(
        buffer,
        pagesize=PAGE_SIZES[page_size],
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"{PORTAL_NAME} report {report_id}",
        author=PORTAL_NAME,
        subject="AI-assisted brain MRI reading (not a diagnosis)",
        creator=PORTAL_NAME,
    )


class NumberedCanvas(Canvas):
    """Holds every page until the end, so that each can say "Page x of y"."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self) -> None:  # noqa: N802 - ReportLab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont("Helvetica", 7.5)
            self.setFillColor(colors.grey)
            self.drawRightString(self._pagesize[0] - 18 * mm, 10 * mm, f"Page {self._pageNumber} of {total}")
            super().showPage()
        super().save()


def report_styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontSize=18, spaceAfter=2 * mm, alignment=0),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontSize=12.5, spaceBefore=4 * mm, spaceAfter=2 * mm),
        "body": ParagraphStyle("body", parent=base["BodyText"], fontSize=9.5, leading=12.5),
        "small": ParagraphStyle("small", parent=base["BodyText"], fontSize=8, leading=10, textColor=colors.grey),
        "banner": ParagraphStyle(
            "banner", parent=base["BodyText"], fontSize=10.5, leading=14, textColor=colors.HexColor("#7a4100"),
            backColor=colors.HexColor("#fff3cd"), borderColor=colors.HexColor("#e0a800"), borderWidth=0.8,
            borderPadding=6, spaceBefore=2 * mm, spaceAfter=4 * mm,
        ),  # fmt: skip
        "answer": ParagraphStyle("answer", parent=base["Heading1"], fontSize=16, leading=20, spaceBefore=3 * mm, spaceAfter=1 * mm),
        "grey": ParagraphStyle(
            "grey", parent=base["BodyText"], fontSize=10.5, leading=14, textColor=colors.HexColor("#41464b"),
            backColor=colors.HexColor("#e9ecef"), borderColor=colors.HexColor("#adb5bd"), borderWidth=0.8,
            borderPadding=6, spaceBefore=2 * mm, spaceAfter=3 * mm,
        ),  # fmt: skip
        "notice": ParagraphStyle(
            "notice", parent=base["BodyText"], fontSize=9, leading=12, borderColor=colors.HexColor("#adb5bd"),
            borderWidth=0.6, borderPadding=6, backColor=colors.HexColor("#f8f9fa"),
        ),  # fmt: skip
    }


def key_value_table(rows: list[tuple[str, str]], styles) -> Table:
    table = Table([[Paragraph(f"<b>{k}</b>", styles["body"]), Paragraph(v, styles["body"])] for k, v in rows],
                  colWidths=[42 * mm, None], hAlign="LEFT")  # fmt: skip
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
    return table


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def when(moment: datetime) -> str:
    return format_datetime(moment)  # the pages' format, zone included


def _header(report: ReportInput, styles) -> list:
    return [
        Paragraph(f"{PORTAL_NAME} — brain MRI AI report", styles["title"]),
        Paragraph(f"Report {report.report_id} · generated {when(report.generated_at)}", styles["small"]),
    ]


def _answer(report: ReportInput, styles) -> list:
    """The first section: the final answer, who gave it, and what the AI said (scans.answer's words)."""
    answer = report.answer
    parts = [Paragraph("Answer", styles["h2"]), Paragraph(escape(answer.headline), styles["answer"])]
    if answer.byline:
        parts.append(Paragraph(escape(answer.byline[0].upper() + answer.byline[1:]), styles["body"]))
    if answer.reason:
        style = styles["banner"] if answer.state == "needs_review" else styles["grey"]
        prefix = "<b>NEEDS REVIEW.</b> " if answer.state == "needs_review" else ""
        parts.append(Paragraph(prefix + escape(answer.reason), style))
    return parts


def _scan_details(report: ReportInput, styles) -> list:
    rows = [
        ("Patient reference", escape(report.patient_ref) or "— (none given)"),
        ("Uploaded", when(report.uploaded_at)),
        ("Original file", escape(report.original_filename)),
        ("Image", f"{report.image_width} × {report.image_height} px, {escape(report.image_format)}"),
    ]
    return [Paragraph("Scan", styles["h2"]), key_value_table(rows, styles)]


def _ai_result(report: ReportInput, styles, width: float) -> list:
    """What the model said, as recorded (a refusal: that it did not analyse the image, and why)."""
    parts = [Paragraph("AI result (as recorded)", styles["h2"])]
    if report.refused:
        parts.append(Paragraph(
            "The model did not analyse this image: it does not look like a brain MRI slice. It gave no label, "
            "probabilities or heatmap.", styles["body"]))  # fmt: skip
        if report.technical_detail:
            parts.append(Paragraph(f"Technical details: {escape(report.technical_detail)}", styles["small"]))
        parts.append(key_value_table([("Model version", escape(report.model_version))], styles))
        return parts
    label = label_name(report.label)
    if report.abstained and report.abstain_reason:
        parts.append(Paragraph(f"The model abstained: {escape(report.abstain_reason)}", styles["body"]))
    parts.append(key_value_table([
        ("Most likely class", f"<b>{label}</b>"),
        ("Calibrated confidence", escape(format_probability(report.confidence))),
        ("Model version", escape(report.model_version)),
    ], styles))  # fmt: skip
    ordered = sorted(report.probabilities.items(), key=lambda item: -item[1])
    table = Table(
        [["Class", "Probability"]] + [[label_name(name), format_probability(p)] for name, p in ordered],
        colWidths=[45 * mm, 25 * mm],
        hAlign="LEFT",
    )
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f1f3f5")]),
    ]))  # fmt: skip
    chart = _probability_chart(report.probabilities, width - 75 * mm)
    row = Table([[table, chart]], colWidths=[75 * mm, width - 75 * mm], hAlign="LEFT")
    row.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    parts += [Spacer(1, 2 * mm), row]
    if report.technical_detail:
        parts.append(Paragraph(f"Technical details: {escape(report.technical_detail)}", styles["small"]))
    return parts


def _probability_chart(probabilities: dict[str, float], width: float) -> Drawing:
    # The chart draws its first category at the bottom: least likely first puts the answer on top.
    names = sorted(probabilities, key=lambda name: probabilities[name])
    drawing = Drawing(width, 32 * mm)
    chart = HorizontalBarChart()
    chart.x, chart.y = 28 * mm, 3 * mm
    chart.width, chart.height = width - 34 * mm, 26 * mm
    chart.data = [[100 * probabilities[name] for name in names]]
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 25
    chart.valueAxis.labelTextFormat = "%d%%"
    chart.valueAxis.labels.fontSize = 7
    chart.categoryAxis.categoryNames = [label_name(name) for name in names]
    chart.categoryAxis.labels.fontSize = 7.5
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.bars[0].fillColor = colors.HexColor("#0d6efd")
    chart.bars[0].strokeColor = None
    chart.barSpacing = 2
    drawing.add(chart)
    return drawing


def fit_image(png: bytes, max_width: float, max_height: float) -> Image:
    image = Image(io.BytesIO(png))
    scale = min(max_width / image.imageWidth, max_height / image.imageHeight)
    image.drawWidth, image.drawHeight = image.imageWidth * scale, image.imageHeight * scale
    return image


def colour_scale(width: float) -> Drawing:
    """The Grad-CAM colour scale: the same JET map the overlay uses, cold to hot."""
    ramp = cv2.applyColorMap(np.arange(256, dtype=np.uint8).reshape(1, 256), cv2.COLORMAP_JET)[0]  # (256, 3) BGR
    drawing = Drawing(width, 11 * mm)
    steps = 64
    bar_width = (width - 30 * mm) / steps
    for step in range(steps):
        blue, green, red = ramp[int(step * 255 / (steps - 1))] / 255.0
        drawing.add(Rect(15 * mm + step * bar_width, 5 * mm, bar_width + 0.3, 4 * mm,
                         fillColor=colors.Color(red, green, blue), strokeColor=None))  # fmt: skip
    drawing.add(String(15 * mm, 1 * mm, "low influence", fontSize=7, textAnchor="start"))
    drawing.add(String(width - 15 * mm, 1 * mm, "high influence", fontSize=7, textAnchor="end"))
    return drawing


def _images(report: ReportInput, styles, width: float) -> list:
    cell = (width - 6 * mm) / 2
    original = fit_image(report.image_png, cell, 62 * mm)
    if report.refused:  # a heatmap of an image the model did not judge would look like a finding
        return [KeepTogether([Paragraph("Image", styles["h2"]), original, Paragraph("Uploaded image", styles["small"])])]
    overlay = fit_image(report.overlay_png, cell, 62 * mm)
    grid = Table(
        [[original, overlay], [Paragraph("Original slice", styles["small"]), Paragraph("Grad-CAM, lesion-weighted: regions that drove the answer", styles["small"])]],
        colWidths=[cell + 3 * mm, cell + 3 * mm],
    )  # fmt: skip
    grid.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "CENTER"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    return [KeepTogether([Paragraph("Images", styles["h2"]), grid, colour_scale(width)])]


_DECISIONS = {"confirmed": "AI result confirmed", "overridden": "AI result overridden", "unusable": "Not a brain MRI / unusable image"}


def _review(report: ReportInput, styles) -> list:
    parts = [Paragraph("Human review", styles["h2"])]
    if not report.reviews:
        return parts + [Paragraph("Not reviewed. The AI result above has not been checked by a person.", styles["body"])]
    latest = report.reviews[-1]
    final = "— (not a brain MRI / unusable image)" if latest.decision == "unusable" else f"<b>{label_name(latest.final_label)}</b>"
    parts.append(key_value_table([
        ("Final label", final),
        ("Decision", _DECISIONS.get(latest.decision, escape(latest.decision))),
        ("Reviewer", escape(latest.reviewer)),
        ("Reviewed", when(latest.reviewed_at)),
        ("Note", escape(latest.note) or "—"),
    ], styles))  # fmt: skip
    for earlier in reversed(report.reviews[:-1]):
        what = _DECISIONS.get(earlier.decision, earlier.decision)
        label = f": {label_name(earlier.final_label)}" if earlier.final_label else ""
        parts.append(Paragraph(
            f"Superseded: {escape(what)}{escape(label)} by {escape(earlier.reviewer)}, {when(earlier.reviewed_at)}"
            + (f" — {escape(earlier.note)}" if earlier.note else ""), styles["small"]))  # fmt: skip
    return parts


def signature_block(reviewer: str, styles, width: float) -> KeepTogether:
    """Lines for the reviewing clinician to sign on paper; the name is filled in when someone reviewed it."""
    reviewer = escape(reviewer)
    table = Table(
        [[Paragraph("Reviewed by", styles["small"]), "", Paragraph("Signature", styles["small"]), "", Paragraph("Date", styles["small"])],
         [Paragraph(reviewer, styles["body"]), "", "", "", ""]],
        colWidths=[width * 0.34, width * 0.04, width * 0.34, width * 0.04, width * 0.24], hAlign="LEFT",
    )  # fmt: skip
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
        ("TOPPADDING", (0, 1), (-1, 1), 8 * mm),
        # A line to write on under each of the three, not under the gaps between them.
        *[("LINEBELOW", (column, 1), (column, 1), 0.6, colors.black) for column in (0, 2, 4)],
    ]))  # fmt: skip
    return KeepTogether([Paragraph("Reviewing clinician", styles["h2"]), table])


def model_summary(card: dict, model_version: str, styles) -> list:
    """The model card's summary: version, validation numbers, limitations for a clinician."""
    card = card or {}
    metrics = card.get("validation", {}) or card.get("metrics", {}) or {}
    rows = [("Version", escape(str(card.get("version", model_version))))]
    accuracy = metrics.get("accuracy_4class") or metrics.get("overall_accuracy_4class")
    if accuracy is not None:
        rows.append(("Validation accuracy", f"{accuracy:.1%} (4 classes)"))
    binary = metrics.get("binary") or {}
    if "sensitivity" in binary and "specificity" in binary:
        rows.append(("Tumour vs no tumour", f"sensitivity {binary['sensitivity']:.1%}, specificity {binary['specificity']:.1%}"))
    rows.append(("Limitations", "<br/>".join(f"• {escape(item)}" for item in clinician_limitations(card))))
    # Never split across pages: a limitation read without its heading, or on the next page alone, misleads.
    return [KeepTogether([Paragraph("Model", styles["h2"]), key_value_table(rows, styles)])]


def page_footer(report_id: str, trace: str = ""):
    """Draws the report id and `trace` (e.g. "scan <uuid>") at the foot of every page."""

    def draw(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(colors.grey)
        trace_text = f" · {trace}" if trace else ""
        canvas.drawString(document.leftMargin, 10 * mm, f"{PORTAL_NAME} report {report_id}{trace_text} — not a diagnosis")
        canvas.restoreState()

    return draw
