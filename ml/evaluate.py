"""Evaluate the classifier on any folder of class sub-folders.

    python -m ml.evaluate --data DIR
    python -m ml.evaluate --split validation        # the committed validation split

Folder names map case-insensitively to the classes (glioma|glioma_tumor|gl, meningioma|
meningioma_tumor|me, notumor|no_tumor|no|normal|healthy, pituitary|pituitary_tumor|pi),
to "tumour of unknown type" (yes|tumor|tumour: binary metrics only), or to images that must be
refused as not a brain MRI (not_mri|ood|other). Unknown folders are reported and ignored;
unreadable files count as errors. Progress goes to stderr; the last stdout line is one JSON object.
"""

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ml import config
from ml.calibration import expected_calibration_error
from ml.wording import ABSTAIN_KINDS

TUMOUR = "tumour"  # ground truth "some tumour", type unknown
NOT_MRI = "not_mri"  # ground truth "must be refused"
FOLDER_ALIASES = {
    **dict.fromkeys(("glioma", "glioma_tumor", "gl"), "glioma"),
    **dict.fromkeys(("meningioma", "meningioma_tumor", "me"), "meningioma"),
    **dict.fromkeys(("notumor", "no_tumor", "no", "normal", "healthy"), "notumor"),
    **dict.fromkeys(("pituitary", "pituitary_tumor", "pi"), "pituitary"),
    **dict.fromkeys(("yes", "tumor", "tumour"), TUMOUR),
    **dict.fromkeys(("not_mri", "ood", "other"), NOT_MRI),
}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".gif", ".webp", ".dcm"}


@dataclass(frozen=True)
class Outcome:
    """What happened to one image."""

    name: str
    truth: str  # a class name, TUMOUR or NOT_MRI
    error: str | None = None
    predicted: str | None = None
    probabilities: tuple[float, ...] = ()
    abstained: bool = False
    flagged_not_mri: bool = False
    abstain_kind: str | None = None  # ml.wording.ABSTAIN_KINDS
    latency_ms: float = 0.0
    original_shape: tuple[int, ...] = ()


def load_any_image(path: Path) -> np.ndarray:
    """Image or DICOM file -> numpy array; ValueError when it cannot be read."""
    if path.suffix.lower() == ".dcm":
        try:
            import pydicom

            return pydicom.dcmread(path).pixel_array
        except Exception as error:  # pydicom raises many types for broken files
            raise ValueError(f"Cannot read DICOM {path.name}: {error}") from error
    from ml.data import decode_image_file

    return decode_image_file(path)


def labelled_files(data_dir: Path) -> tuple[list[tuple[Path, str]], list[str]]:
    """-> ([(file, truth)], unknown folder names). Looks one level down for class folders."""
    files, unknown = [], []
    for folder in sorted(path for path in data_dir.iterdir() if path.is_dir()):
        truth = FOLDER_ALIASES.get(folder.name.lower())
        if truth is None:
            unknown.append(folder.name)
            continue
        files.extend((path, truth) for path in sorted(folder.rglob("*")) if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES)
    return files, unknown


def split_files(split: str) -> list[tuple[Path, str]]:
    from ml.data import read_split

    if split != "validation":
        raise ValueError("Only the committed 'validation' split can be evaluated.")
    images_dir = config.training_images_dir()
    return [(images_dir / relative, relative.split("/")[0]) for relative in read_split()["validation"]]


def progress(done: int, total: int) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)


def classify_all(classifier, items: Iterable[tuple[str, str, Callable[[], np.ndarray]]], total: int, show_progress: bool = True) -> list[Outcome]:
    """(name, truth, loader) items -> Outcomes; a loader or prediction raising ValueError is an error."""
    outcomes = []
    for done, (name, truth, loader) in enumerate(items, start=1):
        try:
            image = loader()
            started = time.perf_counter()
            result = classifier.predict(image)
            latency = (time.perf_counter() - started) * 1000.0
        except ValueError as error:
            outcomes.append(Outcome(name, truth, error=str(error)))
        else:
            outcomes.append(
                Outcome(
                    name,
                    truth,
                    predicted=result.label,
                    probabilities=tuple(result.probabilities[class_name] for class_name in config.CLASS_NAMES),
                    abstained=result.abstained,
                    flagged_not_mri=result.refused_as_not_mri,
                    abstain_kind=result.abstain_kind,
                    latency_ms=latency,
                    original_shape=tuple(image.shape[:2]),
                )
            )
        if show_progress and (done % 10 == 0 or done == total):
            progress(done, total)
    return outcomes


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def is_silent_miss(outcome: Outcome) -> bool:
    """A tumour slice answered "no tumour" without abstaining: the error that harms a patient."""
    return outcome.truth not in (config.NO_TUMOUR_CLASS, NOT_MRI) and outcome.predicted == config.NO_TUMOUR_CLASS and not outcome.abstained


def summarise(outcomes: list[Outcome], model_version: str) -> dict:
    """Outcomes -> the metrics dictionary printed as the last line."""
    valid = [outcome for outcome in outcomes if outcome.error is None]
    four_class = [outcome for outcome in valid if outcome.truth in config.CLASS_NAMES]
    mri = [outcome for outcome in valid if outcome.truth != NOT_MRI]
    not_mri = [outcome for outcome in valid if outcome.truth == NOT_MRI]
    names = config.CLASS_NAMES

    confusion = np.zeros((len(names), len(names)), dtype=int)
    for outcome in four_class:
        confusion[names.index(outcome.truth), names.index(outcome.predicted)] += 1
    per_class = {}
    for index, name in enumerate(names):
        row_total, column_total = int(confusion[index].sum()), int(confusion[:, index].sum())
        true_positive = int(confusion[index, index])
        precision, recall = _rate(true_positive, column_total), _rate(true_positive, row_total)
        f1 = 2 * precision * recall / (precision + recall) if precision and recall else None
        per_class[name] = {"n": row_total, "accuracy": recall, "precision": precision, "recall": recall, "f1": f1}

    # Tumour vs no tumour: positive = any tumour class (or the unknown-type tumour folder).
    truly_positive = [outcome.truth != config.NO_TUMOUR_CLASS for outcome in mri]
    called_positive = [outcome.predicted != config.NO_TUMOUR_CLASS for outcome in mri]
    tp = sum(t and c for t, c in zip(truly_positive, called_positive))
    fn = sum(t and not c for t, c in zip(truly_positive, called_positive))
    tn = sum(not t and not c for t, c in zip(truly_positive, called_positive))
    fp = sum(not t and c for t, c in zip(truly_positive, called_positive))

    silent = sum(is_silent_miss(outcome) for outcome in mri)
    accepted = [outcome for outcome in four_class if not outcome.abstained]
    probabilities = np.array([outcome.probabilities for outcome in four_class]).reshape(-1, len(names))
    labels = np.array([names.index(outcome.truth) for outcome in four_class], dtype=int)
    latencies = [outcome.latency_ms for outcome in valid]
    return {
        "n_images": len(outcomes),
        "n_errors": len(outcomes) - len(valid),
        "overall_accuracy_4class": _rate(int(np.trace(confusion)), len(four_class)),
        "per_class": per_class,
        "binary": {
            "tp": tp, "fn": fn, "tn": tn, "fp": fp,
            "sensitivity": _rate(tp, tp + fn), "specificity": _rate(tn, tn + fp), "accuracy": _rate(tp + tn, len(mri)),
            # Of the tumour slices, those answered "no tumour" with no review flag (top-label misses that abstained are not silent).
            "silent_miss": {"count": silent, "rate": _rate(silent, tp + fn)},
        },  # fmt: skip
        "confusion": {"labels": list(names), "rows_true_columns_predicted": confusion.tolist()},
        "abstained": {"count": sum(outcome.abstained for outcome in mri), "rate": _rate(sum(outcome.abstained for outcome in mri), len(mri))},
        "abstained_by_kind": {kind: sum(outcome.abstain_kind == kind for outcome in mri) for kind in ABSTAIN_KINDS},
        "flagged_not_mri_among_mri": {"count": sum(outcome.flagged_not_mri for outcome in mri), "rate": _rate(sum(outcome.flagged_not_mri for outcome in mri), len(mri))},
        "accuracy_on_accepted": _rate(sum(outcome.predicted == outcome.truth for outcome in accepted), len(accepted)),
        "coverage_4class": _rate(len(accepted), len(four_class)),
        "ece": expected_calibration_error(probabilities, labels) if len(four_class) else None,
        "not_mri": {"n": len(not_mri), "flagged": sum(outcome.flagged_not_mri for outcome in not_mri), "flagged_rate": _rate(sum(outcome.flagged_not_mri for outcome in not_mri), len(not_mri))},
        "errors": [f"{outcome.name}: {outcome.error}" for outcome in outcomes if outcome.error][:20],
        "model_version": model_version,
        "latency_ms": {
            "infer_median": float(np.median(latencies)) if latencies else None,
            "infer_p95": float(np.percentile(latencies, 95)) if latencies else None,
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="folder of class sub-folders")
    source.add_argument("--split", choices=["validation"], help="the committed split of the training data")
    source.add_argument("--files", type=Path, help="text file: one '<class_folder>/<file>' per line, relative to the training images")
    parser.add_argument("--weights-dir", type=Path, default=None)
    arguments = parser.parse_args(argv)

    from ml.inference import Classifier
    from ml.runtime import configure_tensorflow

    configure_tensorflow()
    unknown: list[str] = []
    if arguments.data:
        if not arguments.data.is_dir():
            parser.error(f"{arguments.data} is not a folder")
        files, unknown = labelled_files(arguments.data)
    elif arguments.split:
        files = split_files(arguments.split)
    else:
        relatives = [line.strip() for line in arguments.files.read_text().splitlines() if line.strip()]
        files = [(config.training_images_dir() / relative, FOLDER_ALIASES.get(relative.split("/")[0].lower(), NOT_MRI)) for relative in relatives]
    for name in unknown:
        print(f"ignored unknown folder: {name}", file=sys.stderr)
    classifier = Classifier.load(arguments.weights_dir)
    items = ((str(path), truth, lambda path=path: load_any_image(path)) for path, truth in files)
    summary = summarise(classify_all(classifier, items, len(files)), classifier.model_version)
    summary["ignored_folders"] = unknown
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
