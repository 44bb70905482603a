"""`python -m reports.bench`: how long one PDF report takes to build, as JSON on stdout.

Uses a synthetic 512x512 slice and overlay (the common MRI size) and the pure builder, so
it needs no database; repeat runs and quote the median.
"""

import argparse
import io
import json
import math
import statistics
import time
from datetime import UTC, datetime

import numpy as np
from PIL import Image

from reports.pdf import AnswerSummary, ReportInput, ReviewSummary, build_report_pdf


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def sample_report(size: int = 512) -> ReportInput:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:size, 0:size]
    head = (((x - size / 2) / (size * 0.4)) ** 2 + ((y - size / 2) / (size * 0.45)) ** 2) <= 1
    grey = np.where(head, 90 + rng.integers(0, 120, (size, size)), 0).astype(np.uint8)
    overlay = np.dstack([grey, grey // 2, 255 - grey]).astype(np.uint8)
    now = datetime.now(UTC)
    return ReportInput(
        report_id="00000000-0000-4000-8000-000000000000", generated_at=now, patient_ref="BENCH-1",
        uploaded_at=now, original_filename="bench.png", image_width=size, image_height=size, image_format="PNG",
        label="glioma", probabilities={"glioma": 0.91, "meningioma": 0.04, "notumor": 0.02, "pituitary": 0.03},
        confidence=0.91, abstained=False, abstain_reason=None, model_version="bench",
        image_png=_png(grey), overlay_png=_png(overlay),
        answer=AnswerSummary(state="analysed", headline="Glioma", byline="confirmed by bench, 1 Dec 18:33; the AI suggested the same, 91 %"),
        model_card={"version": "bench", "limitations": ["2-D slices only", "Not validated clinically"]},
        reviews=[ReviewSummary("confirmed", "glioma", "bench", "Agree.", now)],
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    report = sample_report()
    build_report_pdf(report)  # warm-up: font and module caches
    timings, size = [], 0
    for _ in range(args.runs):
        start = time.perf_counter()
        size = len(build_report_pdf(report))
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    print(json.dumps({
        "benchmark": "report_pdf",
        "runs": args.runs,
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[math.ceil(0.95 * len(timings)) - 1], 1),
        "min_ms": round(timings[0], 1),
        "pdf_bytes": size,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
