"""The generalisation protocol: the classifier measured on the validation and held-out side of every
source, per source, per LGG sequence and institution, on brain-area-matched LGG slices, per not-MRI
kind, and Grad-CAM localisation against the LGG masks.

    python -m ml.protocol [--weights-dir DIR] [--out FILE]     # last stdout line: one JSON object

Rows (one per image) are plain dictionaries, so the same summary also reads the rows of another
model recorded elsewhere (ml/artifacts/baseline_1.2.0_rows.json: the shipped Kaggle-only model on
the same images, the leave-LGG-out comparison).
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from ml import config

NO_TUMOUR = config.NO_TUMOUR_CLASS
POINTING_MARGIN_PX = 15  # the pointing game's tolerance: the mask grown by this many pixels


def collect_rows(classifier, records, data_dir: Path, sides: tuple[str, ...] = ("validation", "held_out")) -> list[dict]:
    """One row per record on `sides`: truth, the classifier's answer and how it decided."""
    from ml.data import decode_image_file
    from ml.ood import input_check_reason
    from ml.preprocess import to_grey
    from ml.sources import source_folder

    rows = []
    chosen = [record for record in records if record.side in sides]
    for done, record in enumerate(chosen, start=1):
        image = decode_image_file(source_folder(record.source, data_dir) / record.relative_path)
        result = classifier.predict(image)
        not_mri_probability, distance = classifier.refusal_scores(image)
        input_refused = input_check_reason(image, to_grey(image)) is not None
        rows.append(
            {
                "source": record.source, "path": record.relative_path, "truth": record.label, "side": record.side,
                "sequence": record.sequence, "kind": record.kind, "group": record.group,
                "brain_area_fraction": record.brain_area_fraction, "relative_slice": record.relative_slice,
                "predicted": result.label, "abstained": result.abstained, "abstain_kind": result.abstain_kind,
                "confidence": round(result.confidence, 5), "no_tumour_probability": round(result.probabilities[NO_TUMOUR], 5),
                "probabilities": [round(result.probabilities[name], 5) for name in config.CLASS_NAMES],
                "not_mri_probability": round(not_mri_probability, 6), "distance": round(distance, 3), "input_refused": input_refused,
                "latency_ms": result.timings_ms.get("total"),
            }
        )  # fmt: skip
        if done % 500 == 0 or done == len(chosen):
            print(f"protocol: {done}/{len(chosen)} images", file=sys.stderr, flush=True)
    return rows


def _rate(count: int, total: int) -> float | None:
    return count / total if total else None


def mri_metrics(rows: list[dict]) -> dict:
    """Rows of brain MRI slices -> the figures that matter, with counts so that rates can be checked."""
    tumours = [row for row in rows if row["truth"] != NO_TUMOUR]
    normals = [row for row in rows if row["truth"] == NO_TUMOUR]
    refused = lambda row: row["abstain_kind"] == "not_mri"  # noqa: E731
    silent = [row for row in tumours if row["predicted"] == NO_TUMOUR and not row["abstained"]]
    detected = [row for row in tumours if row["predicted"] != NO_TUMOUR]
    covered = [row for row in normals if row["predicted"] == NO_TUMOUR and not row["abstained"]]
    specific = [row for row in normals if row["predicted"] == NO_TUMOUR]
    four_class = [row for row in rows if row["truth"] in config.CLASS_NAMES]
    return {
        "n_tumour": len(tumours),
        "n_no_tumour": len(normals),
        "silent_miss": {"count": len(silent), "rate": _rate(len(silent), len(tumours))},
        "sensitivity": _rate(len(detected), len(tumours)),  # top label is a tumour, abstained or not
        "specificity": _rate(len(specific), len(normals)),  # top label is "no tumour", abstained or not
        "no_tumour_coverage": _rate(len(covered), len(normals)),  # answered "no tumour" with no flag
        "accuracy_4class": _rate(sum(row["predicted"] == row["truth"] for row in four_class), len(four_class)),
        "abstained": _rate(sum(row["abstained"] for row in rows), len(rows)),
        "refused_as_not_mri": _rate(sum(refused(row) for row in rows), len(rows)),
    }


def not_mri_metrics(rows: list[dict]) -> dict:
    refused = sum(row["abstain_kind"] == "not_mri" for row in rows)
    labelled = sum(not row["abstained"] for row in rows)  # the worst case: a confident diagnosis of a non-MRI
    return {"n": len(rows), "refused": refused, "refused_rate": _rate(refused, len(rows)), "answered_without_flag": labelled}


LESION_AREA_BINS_PX = (1, 500, 1500, 3000)  # LGG slices are 256 x 256: 500 px is under 1 % of the picture


def sensitivity_by_lesion_size(rows: list[dict], mask_areas: dict[str, int], side: str = "validation") -> list[dict]:
    """LGG tumour slices on `side`, by the area of their mask: how many the top label finds, how many are silent misses."""
    tumours = [row for row in rows if row["source"] == "lgg" and row["side"] == side and row["truth"] != NO_TUMOUR]
    edges = (*LESION_AREA_BINS_PX, None)
    table = []
    for low, high in zip(edges[:-1], edges[1:]):
        members = [row for row in tumours if mask_areas[row["path"]] >= low and (high is None or mask_areas[row["path"]] < high)]
        detected = sum(1 for row in members if row["predicted"] != NO_TUMOUR)
        silent = sum(1 for row in members if row["predicted"] == NO_TUMOUR and not row["abstained"])
        table.append({"area_px": [low, high], "n": len(members), "detected": detected, "sensitivity": _rate(detected, len(members)),
                      "silent_misses": silent})  # fmt: skip
    return table


REFUSAL_BUDGETS = (0.005, 0.01, 0.02)  # shares of validation MRIs the not-MRI threshold may refuse


def refusal_budgets(rows: list[dict], calibration: dict, budgets: tuple[float, ...] = REFUSAL_BUDGETS) -> list[dict]:
    """What each refusal budget would refuse: the not-MRI threshold set at that quantile of the
    validation MRIs' not-MRI probability (the distance threshold as calibrated), and the share of
    each validation MRI group and not-MRI group then refused. Rows without the scores (recorded by
    older code) give []."""
    if not rows or "input_refused" not in rows[0]:
        return []
    distance_threshold = calibration["ood_threshold"]
    # The input checks (colour, blank, size) refuse whatever the threshold.
    refused_at = lambda row, threshold: row["input_refused"] or row["not_mri_probability"] >= threshold or row["distance"] > distance_threshold  # noqa: E731
    mri = [row for row in rows if row["source"] != "not_mri" and row["side"] == "validation"]
    not_mri = [row for row in rows if row["source"] == "not_mri"]
    groups = {
        "kaggle": [row for row in mri if row["source"] == "kaggle"],
        **{f"lgg_{sequence}": [row for row in mri if row["source"] == "lgg" and row["sequence"] == sequence] for sequence in ("t1", "flair", "t1c")},
        "all_mri": mri,
        "head_ct_validation": [row for row in not_mri if row["kind"] == "head_ct" and row["side"] == "validation"],
        "not_mri_validation": [row for row in not_mri if row["side"] == "validation"],
        "not_mri_held_out": [row for row in not_mri if row["side"] == "held_out"],
    }
    table = []
    for budget in budgets:
        threshold = float(np.quantile([row["not_mri_probability"] for row in mri], 1.0 - budget))
        refused = {name: _rate(sum(refused_at(row, threshold) for row in members), len(members)) for name, members in groups.items()}
        table.append({"budget": budget, "not_mri_threshold": threshold, "refused": refused})
    return table


def summarise_rows(rows: list[dict], side: str = "validation") -> dict:
    """Rows -> per-source, per-sequence, per-institution, brain-area-matched and per-kind figures."""
    mri = [row for row in rows if row["source"] != "not_mri" and row["side"] == side]
    summary = {"by_source": {}, "lgg_by_sequence": {}, "lgg_by_institution": {}, "lgg_brain_area_matched": {}, "not_mri_by_kind": {}}
    for source in ("kaggle", "lgg"):
        summary["by_source"][source] = mri_metrics([row for row in mri if row["source"] == source])
    lgg = [row for row in mri if row["source"] == "lgg"]
    for sequence in ("t1", "flair", "t1c"):
        summary["lgg_by_sequence"][sequence] = mri_metrics([row for row in lgg if row["sequence"] == sequence])
    institution = lambda row: row["path"].split("/")[1].split("_")[1]  # noqa: E731  images/TCGA_<institution>_.../...
    for name in sorted({institution(row) for row in lgg}):
        summary["lgg_by_institution"][name] = mri_metrics([row for row in lgg if institution(row) == name])
    # Matched: only slices with a large cross-section, and away from the skull base (lowest fifth of the head),
    # so that "small or low slice = no tumour" earns nothing.
    matched = [row for row in lgg if row["brain_area_fraction"] >= config.LGG_MATCHED_BRAIN_AREA and row["relative_slice"] >= 0.2]
    summary["lgg_brain_area_matched"] = {
        "rule": f"brain_area_fraction >= {config.LGG_MATCHED_BRAIN_AREA} and relative slice >= 0.2",
        **mri_metrics(matched),
    }
    for kind in sorted({row["kind"] for row in rows if row["source"] == "not_mri"}):
        kind_rows = [row for row in rows if row["source"] == "not_mri" and row["kind"] == kind]
        summary["not_mri_by_kind"][kind] = {"side": kind_rows[0]["side"], **not_mri_metrics(kind_rows)}
    for side_name in ("validation", "held_out"):
        side_rows = [row for row in rows if row["source"] == "not_mri" and row["side"] == side_name]
        summary[f"not_mri_{side_name}"] = not_mri_metrics(side_rows)
    summary["worst_silent_miss_rate"] = max(
        (group["silent_miss"]["rate"] or 0.0) for group in [*summary["by_source"].values(), *summary["lgg_by_sequence"].values()]
    )
    return summary


def grown_mask(mask: np.ndarray, margin: int = POINTING_MARGIN_PX) -> np.ndarray:
    """(H, W) bool -> the mask grown by `margin` pixels (a disc structuring element)."""
    import cv2

    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1))
    return cv2.dilate(mask.astype(np.uint8), kernel) > 0


def pointing(heatmap: np.ndarray, mask: np.ndarray) -> tuple[bool, float]:
    """(H, W) heat and (H, W) bool lesion mask -> (the hottest pixel lies in the mask grown by
    POINTING_MARGIN_PX, share of the heat inside the mask itself)."""
    peak = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
    total = float(heatmap.sum())
    return bool(grown_mask(mask)[peak]), (float(heatmap[mask].sum()) / total if total > 0 else 0.0)


def localisation(classifier, records, data_dir: Path) -> dict:
    """The heat map of "glioma" on every LGG validation tumour slice against its mask: pointing game and
    heat share per sequence, for the portal's lesion-weighted map and for plain Grad-CAM, with a fixed
    point at the image centre as the baseline to beat."""
    from ml.data import decode_image_file

    keys = ("pointing_game", "heat_inside_mask", "plain_gradcam_pointing_game", "plain_gradcam_heat_inside_mask", "centre_point_baseline")
    results = {}
    for sequence in ("t1", "flair", "t1c"):
        chosen = [r for r in records if r.source == "lgg" and r.side == "validation" and r.label == "glioma" and r.sequence == sequence]
        rows = []  # one row of `keys` per slice
        for record in chosen:
            image = decode_image_file(data_dir / "lgg" / record.relative_path)
            mask_pixels = decode_image_file(data_dir / "lgg" / record.mask)
            mask = (mask_pixels[:, :, :3].max(axis=2) if mask_pixels.ndim == 3 else mask_pixels) > 127
            weighted, plain = (pointing(classifier.explain(image, "glioma", lesion_weighted=flag).heatmap, mask) for flag in (True, False))
            rows.append((*weighted, *plain, bool(grown_mask(mask)[mask.shape[0] // 2, mask.shape[1] // 2])))
        means = np.mean(np.array(rows, dtype=float), axis=0) if rows else np.zeros(len(keys))
        results[sequence] = {"n": len(chosen), **{key: float(value) for key, value in zip(keys, means)}}
    weights = [item["n"] for item in results.values()]
    results["all"] = {"n": sum(weights), **{key: float(np.average([item[key] for item in results.values()], weights=weights)) for key in keys}}
    results["brain_mri_peak_moved"] = peak_moved_by_weighting(classifier, records, data_dir)
    results["rule"] = (f"hottest pixel of the heat map of class glioma inside the FLAIR-abnormality mask grown by {POINTING_MARGIN_PX} px, "
                       "at the image's own 256x256 size; the portal's map is Grad-CAM weighted by the lesion head (ml.inference.lesion_weights)")  # fmt: skip
    return results


def peak_moved_by_weighting(classifier, records, data_dir: Path) -> dict:
    """brain-mri/ has no masks: for each tumour class of its validation slices, the share whose hottest
    point the lesion weighting moves by more than the pointing margin (scaled to the image's side), so
    that what the weighting does where it was never measured is at least visible."""
    from ml.data import decode_image_file
    from ml.sources import source_folder

    moved = {}
    for record in records:
        if record.source != "kaggle" or record.side != "validation" or record.label == config.NO_TUMOUR_CLASS:
            continue
        image = decode_image_file(source_folder("kaggle", data_dir) / record.relative_path)
        weighted, plain = (classifier.explain(image, record.label, lesion_weighted=flag).heatmap for flag in (True, False))
        (row, column), (plain_row, plain_column) = (np.unravel_index(int(np.argmax(heat)), heat.shape) for heat in (weighted, plain))
        limit = POINTING_MARGIN_PX / 256 * max(weighted.shape)
        moved.setdefault(record.label, []).append(bool(np.hypot(row - plain_row, column - plain_column) > limit))
    return {label: {"n": len(values), "moved": float(np.mean(values))} for label, values in sorted(moved.items())}


PERTURBATION_SAMPLE_STEP = 3  # every third validation MRI: enough to see a shortcut, a fraction of the time


def perturbation_results(classifier, records, data_dir: Path, names: tuple[str, ...] | None = None) -> dict:
    """The shortcut checks on every MRI source: per perturbation of the ORIGINAL image (ml.robustness),
    silent misses, sensitivity and specificity, on a fixed sample of each source's validation side."""
    from ml.data import decode_image_file
    from ml.preprocess import to_grey
    from ml.robustness import PERTURBATIONS
    from ml.sources import source_folder

    sample = [r for r in records if r.side == "validation" and r.source != "not_mri"][::PERTURBATION_SAMPLE_STEP]
    greys = [np.clip(to_grey(decode_image_file(source_folder(r.source, data_dir) / r.relative_path)), 0, 255).astype(np.uint8) for r in sample]
    results = {}
    for name in names or tuple(PERTURBATIONS):
        rows = []
        for record, grey in zip(sample, greys):
            result = classifier.predict(PERTURBATIONS[name](grey))
            rows.append({"source": record.source, "truth": record.label, "predicted": result.label, "abstained": result.abstained, "abstain_kind": result.abstain_kind})
        results[name] = {source: mri_metrics([row for row in rows if row["source"] == source]) for source in ("kaggle", "lgg")}
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights-dir", type=Path, default=None)
    parser.add_argument("--data-dir", type=Path, default=config.data_dir())
    parser.add_argument("--rows-out", type=Path, default=None, help="also write every row as JSON here")
    parser.add_argument("--no-localisation", action="store_true")
    arguments = parser.parse_args(argv)

    from ml.inference import Classifier
    from ml.runtime import configure_tensorflow
    from ml.sources import load_or_build_index

    configure_tensorflow()
    classifier = Classifier.load(arguments.weights_dir)
    records = load_or_build_index(arguments.data_dir)
    rows = collect_rows(classifier, records, arguments.data_dir)
    if arguments.rows_out:
        arguments.rows_out.write_text(json.dumps({"model_version": classifier.model_version, "rows": rows}) + "\n")
    summary = {"model_version": classifier.model_version, "validation": summarise_rows(rows)}
    if not arguments.no_localisation:
        summary["localisation"] = localisation(classifier, records, arguments.data_dir)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
