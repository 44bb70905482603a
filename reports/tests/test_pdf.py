import io
import shutil
import subprocess
from datetime import UTC, datetime

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from conftest import SCREENSHOTS, need_service
from reports.pdf import AnswerSummary, ReportInput, ReviewSummary, build_report_pdf

GENERATED = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)


def _png(rgb: bool) -> bytes:
    y, x = np.mgrid[0:200, 0:180]
    grey = (127 + 120 * np.sin(x / 15.0) * np.cos(y / 20.0)).astype(np.uint8)
    pixels = np.dstack([grey, 255 - grey, grey // 2]) if rgb else grey
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _report(**changes) -> ReportInput:
    values = dict(
        report_id="NS-7F3C-2A10",
        scan_id="7f3c2a10-0000-4000-8000-000000000001",
        generated_at=GENERATED,
        patient_ref="WARD-7 bed 3",
        uploaded_at=datetime(2026, 11, 24, 15, 0, tzinfo=UTC),
        original_filename="slice <12>.png",
        image_width=180,
        image_height=200,
        image_format="PNG",
        label="meningioma",
        probabilities={"glioma": 0.05, "meningioma": 0.86, "notumor": 0.03, "pituitary": 0.06},
        confidence=0.86,
        abstained=False,
        abstain_reason=None,
        model_version="neuroscan-cnn-1.0.0",
        image_png=_png(rgb=False),
        overlay_png=_png(rgb=True),
        answer=AnswerSummary(state="analysed", headline="Meningioma", byline="AI suggestion, 86 %; not reviewed by a person yet"),
        model_card={
            "version": "neuroscan-cnn-1.0.0",
            "limitations": ["2-D slices only", "Not validated clinically"],
        },
    )
    return ReportInput(**{**values, **changes})


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _image_count(pdf: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_it_contains_the_scan_the_result_and_the_notice():
    text = _text(build_report_pdf(_report()))
    for expected in ("NeuroScan", "NS-7F3C-2A10", "7f3c2a10-0000-4000-8000-000000000001", "2026-11-24 15:30 UTC",
                     "WARD-7 bed 3", "slice <12>.png", "180 × 200 px, PNG", "Meningioma", "86 %", "neuroscan-cnn-1.0.0",
                     "Not reviewed", "not been validated clinically", "Not a diagnosis", "Page 1 of"):  # fmt: skip
        assert expected in text, expected


def test_it_embeds_the_original_and_the_overlay():
    assert _image_count(build_report_pdf(_report())) == 2


def test_it_sets_pdf_metadata():
    metadata = PdfReader(io.BytesIO(build_report_pdf(_report()))).metadata
    assert metadata.title == "NeuroScan report NS-7F3C-2A10"
    assert metadata.author == "NeuroScan"
    assert "not a diagnosis" in metadata.subject


@pytest.mark.parametrize("page_size", ["A4", "Letter"])
def test_it_fits_on_two_pages_or_fewer(page_size):
    reader = PdfReader(io.BytesIO(build_report_pdf(_report(), page_size=page_size)))
    assert 1 <= len(reader.pages) <= 2
    width = float(reader.pages[0].mediabox.width)
    assert round(width) == (595 if page_size == "A4" else 612)


def test_it_shows_the_needs_review_banner_with_the_plain_reason_first():
    reason = "The model is unsure: meningioma 51 %, glioma 40 %. A person should read this slice."
    report = _report(abstained=True, abstain_reason=reason, technical_detail="Calibrated top probability 0.510 < abstain threshold 0.940.",
                     answer=AnswerSummary(state="needs_review", headline="Needs review — the AI leans towards Meningioma", reason=reason))  # fmt: skip
    text = _text(build_report_pdf(report))
    assert "NEEDS REVIEW" in text and reason in text
    assert text.index("NEEDS REVIEW") < text.index("Original file")  # the first section, above the scan's details
    assert "abstain threshold 0.940" in text  # kept for the record, as technical details


def test_confidence_is_never_printed_as_100_or_0_percent():
    report = _report(confidence=0.996, probabilities={"glioma": 0.002, "meningioma": 0.996, "notumor": 0.001, "pituitary": 0.001})
    text = _text(build_report_pdf(report))
    assert "> 99 %" in text and "< 1 %" in text
    assert "100" not in text.replace("100%", "").split("Model")[0] and "0.0%" not in text and "99.6" not in text


def test_a_refused_image_has_no_label_probabilities_or_heatmap():
    headline = "Not analysed — this does not look like a brain MRI"
    reason = "This image does not look like a brain MRI slice, so the model did not analyse it."
    report = _report(abstained=True, abstain_reason=reason, refused=True, technical_detail="Feature distance 29.2 > 24.4.",
                     answer=AnswerSummary(state="not_analysed", headline=headline, reason=reason))  # fmt: skip
    pdf = build_report_pdf(report)
    text = _text(pdf)
    assert headline in text and reason in text and "Feature distance 29.2" in text
    assert "Meningioma" not in text and "86 %" not in text and "Probability" not in text and "Grad-CAM" not in text
    assert _image_count(pdf) == 1  # the upload only, no overlay


def test_the_final_label_leads_the_first_section():
    byline = "reviewed by bob, 1 Dec 18:33; the AI suggested Meningioma, 86 %"
    review = ReviewSummary("overridden", "glioma", "bob", "", GENERATED)
    text = _text(build_report_pdf(_report(reviews=[review], answer=AnswerSummary(state="analysed", headline="Glioma", byline=byline))))
    assert text.index("Answer") < text.index("Glioma") < text.index("Reviewed by bob, 1 Dec 18:33") < text.index("Original file")


def test_superseded_reviews_are_marked_superseded():
    earlier = ReviewSummary("confirmed", "meningioma", "alice", "Looks fine.", GENERATED)
    later = ReviewSummary("unusable", "", "bob", "Motion artefact.", GENERATED)
    text = _text(build_report_pdf(_report(reviews=[earlier, later])))
    assert "Superseded: AI result confirmed: Meningioma by alice" in text
    assert "Not a brain MRI / unusable image" in text and "Motion artefact." in text


def test_it_changes_after_a_review():
    before = build_report_pdf(_report())
    review = ReviewSummary("overridden", "glioma", "bob", "Enhancing rim; see prior.", GENERATED)
    after = build_report_pdf(_report(reviews=[review]))
    assert before != after
    text = _text(after)
    assert "Not reviewed" not in text
    assert "Glioma" in text and "AI result overridden" in text and "bob" in text and "Enhancing rim" in text


def test_it_refuses_unknown_page_sizes_and_naive_times():
    with pytest.raises(ValueError):
        build_report_pdf(_report(), page_size="A3")
    with pytest.raises(ValueError):
        build_report_pdf(_report(generated_at=datetime(2026, 1, 1)))


def test_page_one_renders_to_a_picture_that_is_not_blank(tmp_path):
    need_service("pdftoppm (poppler-utils)", shutil.which("pdftoppm") is not None)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(build_report_pdf(_report(abstained=True, abstain_reason="The model is unsure.")))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    prefix = SCREENSHOTS / "report-page"
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(prefix)], check=True)
    pixels = np.asarray(Image.open(f"{prefix}.png").convert("L"))
    assert pixels.std() > 10  # text, images and chart, not an empty white page
    assert (pixels < 128).mean() > 0.01


def test_the_benchmark_prints_one_json_line():
    import json
    import sys

    result = subprocess.run([sys.executable, "-m", "reports.bench", "--runs", "2"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["benchmark"] == "report_pdf" and figures["runs"] == 2
    assert 0 < figures["min_ms"] <= figures["median_ms"] <= figures["p95_ms"]


def test_it_numbers_pages_x_of_y():
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(build_report_pdf(_report()))).pages]
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text


def test_limitations_are_the_clinician_text_not_the_model_cards_technical_list():
    card = {"version": "v", "limitations": ["see the invert_inside_head probe above", "notumor images come from Br35H"]}
    text = _text(build_report_pdf(_report(model_card=card)))
    assert "invert_inside_head" not in text and "see the" not in text and "notumor" not in text
    assert "One slice can neither rule a tumour in nor rule it out." in text.replace("\n", " ")


def test_the_model_card_may_carry_its_own_clinician_limitations():
    card = {"version": "v", "clinician_limitations": ["Read with the full study, never alone."]}
    assert "Read with the full study, never alone." in _text(build_report_pdf(_report(model_card=card)))


def test_the_model_section_is_never_split_across_pages():
    # Longer and longer review notes push the model section across the page break; it moves whole.
    from reports.pdf import ReviewSummary

    pages_of_model = set()
    for words in range(0, 2000, 100):
        review = ReviewSummary(decision="confirmed", final_label="meningioma", reviewer="bob",
                               note="Long note. " * (words // 10), reviewed_at=GENERATED)  # fmt: skip
        pages = [p.extract_text() for p in PdfReader(io.BytesIO(build_report_pdf(_report(reviews=[review])))).pages]
        with_heading = [i for i, text in enumerate(pages) if "\nModel\n" in f"\n{text}\n"]
        with_limits = [i for i, text in enumerate(pages) if "Limitations" in text]
        with_last_limit = [i for i, text in enumerate(pages) if "validated clinically" in text]
        assert with_heading == with_limits == with_last_limit and len(with_limits) == 1, words
        pages_of_model.add(with_limits[0])
    # Whatever comes before it, the section is laid out as one unbreakable block.
    from reportlab.platypus import KeepTogether

    from reports.pdf import model_summary, report_styles

    report = _report()
    [block] = model_summary(report.model_card, report.model_version, report_styles())
    assert isinstance(block, KeepTogether)


def test_it_has_a_signature_line_with_the_reviewers_name():
    from reports.pdf import ReviewSummary

    text = _text(build_report_pdf(_report()))
    assert "Reviewing clinician" in text and "Signature" in text
    review = ReviewSummary(decision="confirmed", final_label="meningioma", reviewer="dr_bob", note="", reviewed_at=GENERATED)
    signed = _text(build_report_pdf(_report(reviews=[review])))
    assert signed.count("dr_bob") >= 2  # in the review and on the signature line
