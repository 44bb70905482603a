"""Generate the model card (ml/MODEL_CARD.md + ml/weights/model_card.json) and its figures.

    python -m ml.model_card

Every number is measured here, from the committed weights, calibration and split: validation
metrics through the real inference path, accuracy by original size, results under
perturbations, the out-of-distribution check on made-up non-MRI images, and latency from
`python -m ml.bench` (run in a fresh process).
"""

import argparse
import csv
import hashlib
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from ml import config

MARKDOWN_FILE = config.ML_DIR / "MODEL_CARD.md"
CONFUSION_PNG = config.ARTIFACTS_DIR / "confusion_matrix.png"
TRAINING_CURVE_PNG = config.ARTIFACTS_DIR / "training_curves.png"
SUSPECTED_LABEL_ERRORS_PNG = config.ARTIFACTS_DIR / "suspected_label_errors.png"
OTHER_SEQUENCE_TUMOURS_PNG = config.ARTIFACTS_DIR / "other_sequence_tumours.png"
# How the committed weights were produced: one uninterrupted run, then the post-training steps.
TRAINING_COMMANDS = (
    "python -m ml.data (split + preprocessed cache, built with the current preprocessing function)",
    "python -m ml.train --epochs 50 --max-minutes 70 --patience 50 -- one cosine schedule run to the end; best epoch kept",
    "python -m ml.train --recalibrate-batch-norm (batch-norm statistics re-estimated on augmented training images; kept only if validation agrees)",
    "python -m ml.calibrate, python -m ml.model_card",
)
SECOND_READER_COMMANDS = (
    "python -m ml.train --epochs 50 --max-minutes 70 --patience 50 --tissue-contrast-probability 0.1 --output-dir ml/weights/second_reader "
    "(the same recipe from scratch, plus the tissue-contrast map on 10 % of training images)",
    "python -m ml.train --recalibrate-batch-norm --output-dir ml/weights/second_reader",
    "python -m ml.calibrate --weights-dir ml/weights/second_reader (only its temperature is used; the first reader's OOD check and threshold stay in charge)",
)
SECOND_READER_PROVENANCE = (
    "The committed second reader was trained before ml.train had the --tissue-contrast-probability option, by a wrapper that patched the "
    "same function (now ml.augment.random_tissue_contrast) into the augmentation and saved every epoch; the commands reproduce the recipe, not the exact bits."
)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_training_log(path: Path) -> list[dict]:
    with open(path) as handle:
        return [{key: float(value) for key, value in row.items()} for row in csv.DictReader(handle)]


def best_epoch(log: list[dict]) -> int:
    """1-based epoch ml.train kept: best validation accuracy, ties broken by lower validation loss."""
    return 1 + max(range(len(log)), key=lambda index: (round(log[index]["val_accuracy"], 5), -log[index]["val_loss"]))


def plot_training_curves(log: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [row["epoch"] + 1 for row in log]
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(10, 4))
    loss_axis.plot(epochs, [row["loss"] for row in log], label="training (augmented)")
    loss_axis.plot(epochs, [row["val_loss"] for row in log], label="validation")
    loss_axis.set(xlabel="epoch", ylabel="cross-entropy", title="Loss")
    accuracy_axis.plot(epochs, [row["accuracy"] for row in log], label="training (augmented)")
    accuracy_axis.plot(epochs, [row["val_accuracy"] for row in log], label="validation")
    accuracy_axis.set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=(0.4, 1.0))
    for axis in (loss_axis, accuracy_axis):
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_confusion(confusion: list[list[int]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.array(confusion)
    figure, axis = plt.subplots(figsize=(5.5, 4.8))
    axis.imshow(matrix, cmap="Blues")
    axis.set_xticks(range(len(config.CLASS_NAMES)), config.CLASS_NAMES, rotation=30)
    axis.set_yticks(range(len(config.CLASS_NAMES)), config.CLASS_NAMES)
    axis.set(xlabel="predicted", ylabel="true", title="Validation confusion matrix")
    for row in range(matrix.shape[0]):
        for column in range(matrix.shape[1]):
            colour = "white" if matrix[row, column] > matrix.max() / 2 else "black"
            axis.text(column, row, str(matrix[row, column]), ha="center", va="center", color=colour)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def load_validation_grey() -> list[tuple[str, str, np.ndarray]]:
    """(relative path, class, uint8 (H, W) grey) for every validation file, decoded once."""
    from ml.data import decode_image_file, read_split
    from ml.preprocess import to_grey

    images = []
    for relative in read_split()["validation"]:
        image = decode_image_file(config.training_images_dir() / relative)
        grey = image if image.ndim == 2 and image.dtype == np.uint8 else np.clip(to_grey(image), 0, 255).astype(np.uint8)
        images.append((relative, relative.split("/")[0], grey))
    return images


def _tumour_recall(outcomes) -> float | None:
    """Share of the tumour outcomes predicted as any tumour class; None when there are none."""
    tumours = [outcome for outcome in outcomes if outcome.truth != config.NO_TUMOUR_CLASS]
    return float(np.mean([outcome.predicted != config.NO_TUMOUR_CLASS for outcome in tumours])) if tumours else None


def _accuracy_4class(outcomes) -> float | None:
    """Share of the outcomes predicted as their true class; None when there are none."""
    return float(np.mean([outcome.predicted == outcome.truth for outcome in outcomes])) if outcomes else None


def _notumor_specificity(outcomes) -> float | None:
    """Share of the notumor outcomes predicted notumor; None when there are none."""
    healthy = [outcome for outcome in outcomes if outcome.truth == config.NO_TUMOUR_CLASS]
    return float(np.mean([outcome.predicted == config.NO_TUMOUR_CLASS for outcome in healthy])) if healthy else None


def accuracy_by_size(outcomes) -> dict:
    from ml.robustness import size_bucket

    buckets = defaultdict(list)
    for outcome in outcomes:
        buckets[size_bucket(*outcome.original_shape)].append(outcome)
    table = {}
    for bucket, members in sorted(buckets.items()):
        table[bucket] = {
            "n": len(members),
            "per_class_n": {name: sum(member.truth == name for member in members) for name in config.CLASS_NAMES},
            "accuracy_4class": _accuracy_4class(members),
            "tumour_recall": _tumour_recall(members),
            "notumor_specificity": _notumor_specificity(members),
        }
    return table


def perturbation_results(classifier, validation, suspected: set[str]) -> dict:
    """Metrics per perturbation; notumor specificity also without the suspected label errors,
    because a model that sees their lesion is right to call them tumours."""
    from ml.evaluate import classify_all
    from ml.robustness import PERTURBATIONS

    results = {}
    for name, perturb in PERTURBATIONS.items():
        items = [(relative, truth, lambda grey=grey: perturb(grey)) for relative, truth, grey in validation]
        outcomes = classify_all(classifier, items, len(items), show_progress=False)
        results[name] = {
            "accuracy_4class": _accuracy_4class(outcomes),
            "tumour_recall": _tumour_recall(outcomes),
            "notumor_specificity": _notumor_specificity(outcomes),
            "notumor_specificity_without_suspected_label_errors": _notumor_specificity([outcome for outcome in outcomes if outcome.name not in suspected]),
            "flagged_not_mri_rate": float(np.mean([outcome.flagged_not_mri for outcome in outcomes])),
            "abstained_rate": float(np.mean([outcome.abstained for outcome in outcomes])),
            "second_reader_answered_rate": float(np.mean([outcome.second_reader for outcome in outcomes])),
        }
        print(f"perturbation {name}: {results[name]}", file=sys.stderr, flush=True)
    return results


def second_reader_comparison(with_second: dict, first_alone: dict) -> dict:
    """Per perturbation row: tumour recall and notumor specificity of the first reader alone and with the second reader."""
    keys = ("tumour_recall", "notumor_specificity", "notumor_specificity_without_suspected_label_errors", "accuracy_4class")
    return {
        name: {
            **{f"{key}_first_reader_alone": first_alone[name][key] for key in keys},
            **{f"{key}_with_second_reader": row[key] for key in keys},
            "second_reader_answered_rate": row["second_reader_answered_rate"],
        }
        for name, row in with_second.items()
    }


def _review_header(review: dict, review_file: Path) -> dict:
    """Who reviewed, how the groups were found, and where the review lives (for the card)."""
    return {"reviewer": review["reviewer"], "how_found": review["how_found"], "review_file": str(review_file.relative_to(config.REPO_ROOT))}


def reviewed_group_results(outcomes, review: dict, files: dict[str, dict]) -> list[dict]:
    """Per reviewed group: its review entry, and what the model says on its validation files.
    `review` is a review file's content, `files` its files (data.reviewed_group_files)."""
    groups = []
    for entry in review["groups"]:
        members = [outcome for outcome in outcomes if files.get(outcome.name) == entry]
        groups.append(
            {
                **entry,
                "n_validation_files": len(members),
                "predicted": {name: sum(outcome.predicted == name for outcome in members) for name in config.CLASS_NAMES},
                "abstained": sum(outcome.abstained for outcome in members),
            }
        )
    return groups


def suspected_label_error_results(outcomes, review: dict, suspected: dict[str, dict], model_version: str) -> dict:
    """The reviewed groups, and the validation metrics without their files."""
    from ml.evaluate import summarise

    without = summarise([outcome for outcome in outcomes if outcome.name not in suspected], model_version)
    return {
        "groups": reviewed_group_results(outcomes, review, suspected),
        "validation_without_them": {key: without[key] for key in ("n_images", "overall_accuracy_4class", "binary", "abstained", "accuracy_on_accepted", "coverage_4class")},
    }


def other_sequence_results(outcomes, review: dict, files: dict[str, dict]) -> dict:
    """The reviewed tumour slices on other sequences: per group, and their tumour recall and accuracy."""
    members = [outcome for outcome in outcomes if outcome.name in files]
    return {
        "groups": reviewed_group_results(outcomes, review, files),
        "n_files": len(members),
        "tumour_recall": _tumour_recall(members),
        "accuracy_4class": _accuracy_4class(members),
        "abstained": sum(outcome.abstained for outcome in members),
        "missed_without_abstaining": sum(outcome.predicted == config.NO_TUMOUR_CLASS and not outcome.abstained for outcome in members),
    }


def plot_reviewed_examples(classifier, examples: list[str], path: Path) -> None:
    """One row per reviewed group: its example slice, and the Grad-CAM of the most likely tumour class."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(examples), 2, figsize=(7, 3.6 * len(examples)), squeeze=False)
    for (image_axis, cam_axis), relative in zip(axes, examples):
        image = _decode(relative)
        result = classifier.predict(image)
        tumour_class = max((name for name in config.CLASS_NAMES if name != config.NO_TUMOUR_CLASS), key=lambda name: result.probabilities[name])
        explanation = classifier.explain(image, tumour_class)
        image_axis.imshow(image, cmap="gray" if image.ndim == 2 else None)
        image_axis.set_title(f"{relative} (labelled {relative.split('/')[0]})", fontsize=8)
        cam_axis.imshow(explanation.overlay)
        cam_axis.set_title(f"Grad-CAM for {tumour_class}; model: {result.label} {result.confidence:.2f}", fontsize=8)
        for axis in (image_axis, cam_axis):
            axis.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def mirror_view_effect(classifier, validation, suspected: set[str]) -> dict:
    """How often the test-time mirror view runs on validation and what it changes: 4-class
    accuracy from the first view alone, with the rule the classifier uses, and with both views
    always; the first two also without the suspected label errors."""
    from ml.model import combine_views, first_view_is_unsure, mirror
    from ml.preprocess import preprocess

    outputs_model = classifier.outputs_model
    squares = np.stack([preprocess(grey, classifier.image_size) for _, _, grey in validation])[..., np.newaxis]
    truth = np.array([config.CLASS_NAMES.index(name) for _, name, _ in validation])
    first, second = [], []
    for start in range(0, len(squares), 128):
        batch = squares[start : start + 128]
        first.append(np.asarray(outputs_model(batch, training=False)[1]))
        second.append(np.asarray(outputs_model(mirror(batch), training=False)[1]))
    first, second = np.concatenate(first), np.concatenate(second)
    combined = np.asarray(combine_views(first, second))
    trusted = np.array([relative not in suspected for relative, _, _ in validation])

    def accuracy(logits, rows=slice(None)) -> float:
        return float(np.mean(logits[rows].argmax(axis=1) == truth[rows]))

    return {
        "rule": f"when the network's own top probability is below {config.MIRROR_VIEW_BELOW_CONFIDENCE}, the left-right mirror image is classified too and both views' logits are averaged (the OOD check keeps the first view's features)",
        "second_view_rate": float(np.mean(np.asarray(first_view_is_unsure(first)))),
        "accuracy_first_view_only": accuracy(first),
        "accuracy_with_rule": accuracy(combined),
        "accuracy_both_views_always": accuracy(first + second),
        "accuracy_first_view_only_without_suspected_label_errors": accuracy(first, trusted),
        "accuracy_with_rule_without_suspected_label_errors": accuracy(combined, trusted),
    }


def ood_results(classifier, images: list[tuple[str, np.ndarray]], source: str) -> dict:
    """How many of `images` (none a brain MRI) are refused as not MRI, and abstained for any reason."""
    from ml.evaluate import classify_all

    outcomes = classify_all(classifier, [(name, "not_mri", lambda image=image: image) for name, image in images], len(images), show_progress=False)
    categories = defaultdict(list)
    for outcome in outcomes:
        categories[outcome.name.split("_")[0]].append(outcome.flagged_not_mri)
    return {
        "n": len(outcomes),
        "flagged": int(sum(outcome.flagged_not_mri for outcome in outcomes)),
        "flagged_rate": float(np.mean([outcome.flagged_not_mri for outcome in outcomes])),
        "abstained_any_reason": int(sum(outcome.abstained for outcome in outcomes)),
        "errors": [outcome.name for outcome in outcomes if outcome.error],
        "by_kind": {kind: {"n": len(flags), "flagged": int(sum(flags))} for kind, flags in sorted(categories.items())},
        "not_flagged": [outcome.name for outcome in outcomes if not outcome.flagged_not_mri],
        "accepted_as_mri": [outcome.name for outcome in outcomes if not outcome.abstained],
        "source": source,
    }


BENCH_RUNS = 3  # the machine is noisy: the card quotes the run with the median predict p50


def run_bench(runs: int = BENCH_RUNS) -> dict:
    results = []
    for _ in range(runs):
        completed = subprocess.run([sys.executable, "-m", "ml.bench", "--repeats", "200"], capture_output=True, text=True, check=True, cwd=config.REPO_ROOT)
        results.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    results.sort(key=lambda result: result["predict_ms"]["p50"])
    return {**results[len(results) // 2], "predict_p50_of_each_run": [result["predict_ms"]["p50"] for result in results]}


def architecture_summary(model) -> list[str]:
    lines = []
    for layer in model.layers:
        shape = layer.output.shape if hasattr(layer, "output") else ""
        lines.append(f"{layer.name} ({layer.__class__.__name__}) -> {tuple(shape)[1:]}, {layer.count_params():,} params")
    return lines


def build_card(weights_dir: Path) -> dict:
    from ml import augment
    from ml.data import read_split, reviewed_group_files
    from ml.evaluate import classify_all, summarise
    from ml.inference import Classifier
    from ml.ood_samples import held_out_non_mri_images, non_mri_images
    from ml.robustness import PERTURBATION_NOTES
    from ml.train import EMA_MOMENTUM

    classifier = Classifier.load(weights_dir)
    calibration = json.loads((weights_dir / config.CALIBRATION_FILE_NAME).read_text())
    split = read_split()
    log = read_training_log(weights_dir / config.TRAINING_LOG_NAME)

    print("validation ...", file=sys.stderr, flush=True)
    validation = load_validation_grey()
    items = [(relative, truth, lambda relative=relative: _decode(relative)) for relative, truth, _ in validation]
    outcomes = classify_all(classifier, items, len(items))
    metrics = summarise(outcomes, classifier.model_version)
    review = json.loads(config.SUSPECTED_LABEL_ERRORS_FILE.read_text())
    suspected = reviewed_group_files(review, config.duplicate_groups_file())
    other_sequence_review = json.loads(config.OTHER_SEQUENCE_TUMOURS_FILE.read_text())
    other_sequence_files = reviewed_group_files(other_sequence_review, config.duplicate_groups_file())
    other_sequence = other_sequence_results(outcomes, other_sequence_review, other_sequence_files)
    mirror_view = mirror_view_effect(classifier, validation, set(suspected))
    print("perturbations ...", file=sys.stderr, flush=True)
    perturbations = perturbation_results(classifier, validation, set(suspected))
    print("perturbations, first reader alone ...", file=sys.stderr, flush=True)
    first_reader_alone = Classifier(classifier.reader, classifier.abstain_threshold, classifier.detector, classifier.model_card, second_reader=None)
    second_reader = second_reader_section(weights_dir / config.SECOND_READER_DIR_NAME, second_reader_comparison(perturbations, perturbation_results(first_reader_alone, validation, set(suspected))))
    print("non-MRI images ...", file=sys.stderr, flush=True)
    ood = ood_results(
        classifier,
        non_mri_images(),
        "ml/ood_samples.py: scikit-image/scikit-learn bundled photos and their grey/crop/rot90/downscaled variants, rendered text documents, noise, blanks, gradients, shapes, synthetic chest-X-ray-like pictures, a tiny crop and an extreme strip",
    )
    held_out = ood_results(
        classifier,
        held_out_non_mri_images(),
        "ml/ood_samples.py held_out_non_mri_images: kinds never looked at while choosing the OOD method (grey face photos enlarged from 25x25, handwritten digits, binary blobs, rendered charts)",
    )
    print("bench ...", file=sys.stderr, flush=True)
    bench = run_bench()

    plot_training_curves(log, TRAINING_CURVE_PNG)
    plot_confusion(metrics["confusion"]["rows_true_columns_predicted"], CONFUSION_PNG)
    plot_reviewed_examples(classifier, [entry["example"] for entry in review["groups"]], SUSPECTED_LABEL_ERRORS_PNG)
    plot_reviewed_examples(classifier, [entry["example"] for entry in other_sequence_review["groups"]], OTHER_SEQUENCE_TUMOURS_PNG)
    weights_file = weights_dir / config.WEIGHTS_FILE_NAME
    return {
        "version": config.MODEL_VERSION,
        "weights_file": f"ml/weights/{config.WEIGHTS_FILE_NAME}",
        "weights_sha256": sha256_of(weights_file),
        "weights_bytes": weights_file.stat().st_size,
        "class_names": list(config.CLASS_NAMES),
        "intended_use": "Research and teaching demo: flags a 2-D brain MRI slice as glioma, meningioma, pituitary tumour or no tumour, with a Grad-CAM heat map. Not a medical device; not a diagnosis.",
        "data": {
            "source": "Brain Tumor MRI Dataset (M. Nickparvar, CC0), Training folder: figshare (Cheng et al.), SARTAJ and Br35H collections",
            "n_files": split["n_training"] + split["n_validation"] + len(split["dropped_conflicting_labels"]),
            "n_training": split["n_training"],
            "n_validation": split["n_validation"],
            "split": f"validation = {split['validation_fraction']:.0%} of each class, whole duplicate groups only, seed {split['seed']}; list committed in ml/artifacts/split.json",
            "grouping_source": split["grouping"],
            "dropped_conflicting_labels": split["dropped_conflicting_labels"],
            "collection_shortcut": "All notumor images come from Br35H, tumours from figshare/SARTAJ; checked below by original-size bucket and under perturbations.",
        },
        "preprocessing": [
            "decode from bytes (Pillow), any of 8/16-bit grey, RGB, RGBA, float -> grey (BT.601 luma; transparency -> black)",
            f"crop the black margin: bounding box of rows/columns with enough pixels brighter than {config.MARGIN_THRESHOLD_FRACTION:.0%} of the 99th percentile, plus a 2 % safety margin",
            f"per-image intensity scaling between the {config.NORMALISE_LOW_PERCENTILE} and {config.NORMALISE_HIGH_PERCENTILE} percentiles, clipped to [0, 1] (percentiles estimated on a strided pixel sample of ~40k pixels)",
            f"zero-pad to a square, resize to {config.IMAGE_SIZE}x{config.IMAGE_SIZE} (area interpolation when shrinking)",
            "inside the network: per-image standardisation (zero mean, unit variance)",
        ],
        "augmentation": [
            f"random rotation +-{augment.MAX_ROTATION_DEGREES:g} deg, shift +-{augment.MAX_SHIFT_FRACTION:.0%}, zoom {augment.ZOOM_RANGE[0]:g}-{augment.ZOOM_RANGE[1]:g} "
            f"(adds or removes black margin), width/height ratio {augment.ASPECT_RANGE[0]:g}-{augment.ASPECT_RANGE[1]:g}, left-right flip 50 %, up-down flip 10 %",
            "downscale to 25-75 % and back (30 %), Gaussian blur sigma 0.5-1.8 (25 %), JPEG quality 20-95 (30 %)",
            "gamma 0.5-2.0, contrast 0.7-1.4, brightness +-0.15, Gaussian noise sigma <= 0.06 (30 %)",
        ],
        "architecture": {
            "summary": "strided 5x5 stem (24) -> conv 32 -> pool -> 2x conv 64 -> pool -> 2x conv 128 -> pool -> 2x conv 192 (last_conv) -> global average pool -> dropout 0.3 -> dense 4 (logits); batch-norm + ReLU after every conv",
            "input": [config.IMAGE_SIZE, config.IMAGE_SIZE, 1],
            "parameters": int(classifier.model.count_params()),
            "layers": architecture_summary(classifier.model),
            "last_conv_layer": config.LAST_CONV_LAYER_NAME,
            "mirror_view": mirror_view,
        },
        "training": {
            "commands": list(TRAINING_COMMANDS),
            "optimizer": f"AdamW (weight decay 1e-4), cosine learning-rate decay from 2e-3 with one warm-up epoch, batch 32, cross-entropy on logits; validation and checkpoints use an exponential moving average of the weights (momentum {EMA_MOMENTUM})",
            "seed": config.SEED,
            "epochs_run": len(log),
            "best_epoch": best_epoch(log),
            "selection": "best validation accuracy, ties broken by lower validation loss",
            "batch_norm_recalibration": json.loads((weights_dir / config.BATCH_NORM_REPORT_NAME).read_text()),
            "log": f"ml/weights/{config.TRAINING_LOG_NAME}",
        },
        "calibration": {
            "method": "temperature scaling fitted on the validation split (minimum NLL)",
            "temperature": calibration["temperature"],
            "ece_before": calibration["ece_before"],
            "ece_after": calibration["ece_after"],
            "nll_before": calibration["nll_before"],
            "nll_after": calibration["nll_after"],
            "ece_bins": config.ECE_BINS,
        },
        "abstention": {
            "confidence_threshold": calibration["abstain_threshold"],
            "rule": "lowest threshold whose accepted validation images reach 99.5 % accuracy while at least 90 % are accepted; otherwise the highest threshold keeping 90 % coverage",
            "tradeoff": [row for row in calibration["coverage_table"] if round(row["threshold"] * 100) % 5 == 0],
        },
        "out_of_distribution": {
            "method": f"input checks (side < {config.MIN_IMAGE_SIDE} px, aspect ratio > {config.MAX_ASPECT_RATIO}, near-constant, > {config.SATURATED_PIXEL_FRACTION:.0%} strongly saturated pixels) then Mahalanobis distance (class means, shared Ledoit-Wolf covariance) on spatially averaged activations of {', '.join(config.OOD_FEATURE_LAYERS)}",
            "fitted_on": calibration["ood_fit"],
            "threshold": calibration["ood_threshold"],
            "threshold_rule": f"{config.OOD_PERCENTILE} percentile of distances of validation MRIs (clean + 2 augmented copies) and augmented training MRIs",
            "non_mri_images": ood,
            "held_out_non_mri_images": held_out,
            "validation_mri_flagged_rate": metrics["flagged_not_mri_among_mri"]["rate"],
            "caveat": "The OOD layers were chosen on an intermediate checkpoint while looking at the first non-MRI set; its rate is therefore optimistic. The held-out kinds were measured only after the OOD method was fixed; nothing was tuned on them.",
        },
        "validation": metrics,
        "suspected_label_errors": {
            **_review_header(review, config.SUSPECTED_LABEL_ERRORS_FILE),
            **suspected_label_error_results(outcomes, review, suspected, classifier.model_version),
        },
        "other_sequence_tumours": {
            **_review_header(other_sequence_review, config.OTHER_SEQUENCE_TUMOURS_FILE),
            **other_sequence,
        },
        "accuracy_by_original_size": accuracy_by_size(outcomes),
        "perturbations": perturbations,
        "perturbation_notes": PERTURBATION_NOTES,
        "second_reader": second_reader,
        "latency": bench,
        "limitations": [
            "2-D slices only: no volumes, no multi-slice context; one slice cannot rule a tumour in or out.",
            "Trained on one public dataset (three collections); every notumor image comes from Br35H. Accuracy on other scanners, sequences and populations is unknown and likely lower.",
            "The validation split comes from the same collections as training, and it was also used for early stopping, temperature and threshold selection: its numbers are optimistic. "
            "It is split by duplicate picture, not by patient (the files carry no patient id): figshare's 3,064 slices come from 233 patients, "
            "so other slices of a validation patient can be in training, and accuracy on new patients may be lower.",
            "Labels come from the public dataset and were not reviewed by a radiologist. One validation group (15 files) is suspected to be mislabelled (see above); the training files were not reviewed.",
            "Other MRI sequences are the largest known risk: tumour images here are mostly T1 with contrast, notumor images come from a collection with many T2/FLAIR slices (see the invert_inside_head probe). "
            f"The validation split holds only {other_sequence['n_files']} T2/FLAIR tumour slices (listed under the perturbation table), too few for a rate; "
            f"the model calls {other_sequence['missed_without_abstaining']} of them 'no tumour' without abstaining. "
            "The second reader (above) was added for this risk; its gain is measured on the synthetic invert_inside_head probe and on these few real slices only.",
            "Classes outside the four (other tumours, stroke, haemorrhage, post-operative change) are not recognised and may be forced into one of the four.",
            "Not validated clinically. Not a diagnosis. A qualified reader must review every result.",
        ],
    }


def second_reader_section(reader_dir: Path, comparison: dict) -> dict:
    log = read_training_log(reader_dir / config.TRAINING_LOG_NAME)
    weights_file = reader_dir / config.WEIGHTS_FILE_NAME
    return {
        "role": "asked only about slices the first reader calls 'no tumour' and accepts as a brain MRI; when its own most likely class is a tumour, "
        "its calibrated probabilities are returned and the result is flagged for review (a 'no tumour' is never confirmed by it, a tumour answer never taken back)",
        "why": "tumour slices in this data are nearly all T1-weighted while the no-tumour collection holds many T2/FLAIR slices, so the first reader "
        "learns 'bright CSF means no tumour'; the second reader was trained with tissue grey levels randomly remapped (sometimes inverted)",
        "weights_file": f"ml/weights/{config.SECOND_READER_DIR_NAME}/{config.WEIGHTS_FILE_NAME}",
        "weights_sha256": sha256_of(weights_file),
        "weights_bytes": weights_file.stat().st_size,
        "temperature": json.loads((reader_dir / config.CALIBRATION_FILE_NAME).read_text())["temperature"],
        "commands": list(SECOND_READER_COMMANDS),
        "provenance": SECOND_READER_PROVENANCE,
        "epochs_run": len(log),
        "best_epoch": best_epoch(log),
        "batch_norm_recalibration": json.loads((reader_dir / config.BATCH_NORM_REPORT_NAME).read_text()),
        "log": f"ml/weights/{config.SECOND_READER_DIR_NAME}/{config.TRAINING_LOG_NAME}",
        "by_perturbation": comparison,
    }


def _second_reader_lines(section: dict) -> list[str]:
    rows = section["by_perturbation"]
    return [
        "## Second reader (a safety net for 'no tumour' answers)",
        f"- Role: {section['role']}.",
        f"- Why: {section['why']}.",
        f"- Weights `{section['weights_file']}` ({section['weights_bytes'] / 1e6:.1f} MB), sha256 `{section['weights_sha256']}`; same architecture; temperature {section['temperature']:.3f}; "
        f"{section['epochs_run']} epochs run, best epoch {section['best_epoch']}; batch-norm re-estimation kept: {section['batch_norm_recalibration']['kept']}; log `{section['log']}`.",
        *[f"- {command}" for command in section["commands"]],
        f"- {section['provenance']}",
        "",
        "First reader alone -> with the second reader, on the validation split and its perturbations (the same images as the table above):",
        "",
        "| perturbation | tumour recall | notumor specificity | same, without suspected label errors | 4-class accuracy | second reader answered |",
        "|---|---|---|---|---|---|",
        *[
            f"| {name} | {_percent(row['tumour_recall_first_reader_alone'])} -> {_percent(row['tumour_recall_with_second_reader'])} "
            f"| {_percent(row['notumor_specificity_first_reader_alone'])} -> {_percent(row['notumor_specificity_with_second_reader'])} "
            f"| {_percent(row['notumor_specificity_without_suspected_label_errors_first_reader_alone'])} -> {_percent(row['notumor_specificity_without_suspected_label_errors_with_second_reader'])} "
            f"| {_percent(row['accuracy_4class_first_reader_alone'])} -> {_percent(row['accuracy_4class_with_second_reader'])} | {_percent(row['second_reader_answered_rate'])} |"
            for name, row in rows.items()
        ],
        "",
    ]


def _decode(relative: str) -> np.ndarray:
    from ml.data import decode_image_file

    return decode_image_file(config.training_images_dir() / relative)


def _percent(value) -> str:
    return "n/a" if value is None else f"{100 * value:.2f} %"


def _suspected_label_error_lines(section: dict) -> list[str]:
    without = section["validation_without_them"]
    return [
        "## Suspected label errors",
        f"Reviewer: {section['reviewer']}. How found: {section['how_found']}. The files keep their label in training, in the split and in every "
        f"number above; `{section['review_file']}` lists them and `ml/artifacts/suspected_label_errors.png` shows each group's example with Grad-CAM.",
        "",
        *[
            f"- Group {group['group_id']} ({group['n_validation_files']} validation files like `{group['example']}`, labelled {group['label']}): {group['finding']}. "
            "The model predicts " + ", ".join(f"{name} {count}" for name, count in group["predicted"].items() if count) + f"; it abstains on {group['abstained']}."
            for group in section["groups"]
        ],
        f"- Validation without these files ({without['n_images']} images): 4-class accuracy {_percent(without['overall_accuracy_4class'])}, "
        f"tumour sensitivity {_percent(without['binary']['sensitivity'])}, specificity {_percent(without['binary']['specificity'])}, "
        f"abstained {_percent(without['abstained']['rate'])}, accuracy on accepted {_percent(without['accuracy_on_accepted'])}.",
        "",
    ]


def _other_sequence_lines(section: dict) -> list[str]:
    return [
        "Validation tumour slices on other sequences (T2, FLAIR), the only real ones in the split:",
        "",
        *[
            f"- `{group['example']}` ({group['n_validation_files']} validation file(s), labelled {group['label']}): {group['finding']}. The model predicts "
            + ", ".join(f"{name} {count}" for name, count in group["predicted"].items() if count)
            + f"; it abstains on {group['abstained']}."
            for group in section["groups"]
        ],
        f"- Tumour recall on these {section['n_files']} files: **{_percent(section['tumour_recall'])}**; 4-class accuracy {_percent(section['accuracy_4class'])}; "
        f"abstained on {section['abstained']}. Reviewer: {section['reviewer']}. How found: {section['how_found']} (`{section['review_file']}`; "
        f"`{OTHER_SEQUENCE_TUMOURS_PNG.relative_to(config.REPO_ROOT)}` shows each slice with the Grad-CAM of its most likely tumour class).",
        "",
    ]


def render_markdown(card: dict) -> str:
    validation, calibration, ood, bench = card["validation"], card["calibration"], card["out_of_distribution"], card["latency"]
    mirror_view = card["architecture"]["mirror_view"]
    binary = validation["binary"]
    lines = [
        f"# Model card: {card['version']}",
        "",
        "Generated by `python -m ml.model_card` from the committed weights; every number below is measured, none typed by hand.",
        f"JSON twin: `ml/weights/model_card.json`. Weights: `{card['weights_file']}` ({card['weights_bytes'] / 1e6:.1f} MB), sha256 `{card['weights_sha256']}`.",
        "",
        f"**Intended use.** {card['intended_use']}",
        "",
        "## Data and split",
        f"- Source: {card['data']['source']}.",
        f"- {card['data']['n_files']} files; {card['data']['n_training']} training, {card['data']['n_validation']} validation.",
        f"- Split: {card['data']['split']}.",
        f"- Duplicate grouping: {card['data']['grouping_source']}.",
        f"- Dropped for conflicting labels ({len(card['data']['dropped_conflicting_labels'])} files): {', '.join(card['data']['dropped_conflicting_labels'])}.",
        f"- Collection shortcut: {card['data']['collection_shortcut']}",
        "",
        "## Preprocessing (one function, `ml/preprocess.py`, for training and inference)",
        *[f"- {step}" for step in card["preprocessing"]],
        "",
        "## Augmentation (training only)",
        *[f"- {step}" for step in card["augmentation"]],
        "",
        "## Architecture and training",
        f"- {card['architecture']['summary']}.",
        f"- Input {card['architecture']['input']}, {card['architecture']['parameters']:,} parameters; Grad-CAM layer `{card['architecture']['last_conv_layer']}`.",
        f"- Prediction: {mirror_view['rule']}. On validation the mirror view runs for {_percent(mirror_view['second_view_rate'])} of slices; "
        f"4-class accuracy {_percent(mirror_view['accuracy_first_view_only'])} from the first view alone, {_percent(mirror_view['accuracy_with_rule'])} with this rule, "
        f"{_percent(mirror_view['accuracy_both_views_always'])} with both views always; without the suspected label errors (below) {_percent(mirror_view['accuracy_first_view_only_without_suspected_label_errors'])} "
        f"from the first view and {_percent(mirror_view['accuracy_with_rule_without_suspected_label_errors'])} with the rule. Grad-CAM adds the mirror view's map, flipped back, when that view is used.",
        f"- {card['training']['optimizer']}; seed {card['training']['seed']}; {card['training']['epochs_run']} epochs run, best epoch {card['training']['best_epoch']} ({card['training']['selection']}).",
        *[f"- {command}" for command in card["training"]["commands"]],
        f"- Batch-norm re-estimation on the final weights: validation accuracy {_percent(card['training']['batch_norm_recalibration']['validation_accuracy_before'])} -> {_percent(card['training']['batch_norm_recalibration']['validation_accuracy_after'])} (kept: {card['training']['batch_norm_recalibration']['kept']}).",
        f"- Log: `{card['training']['log']}`; curves: `ml/artifacts/training_curves.png`.",
        "",
        "## Validation results (grouped split, through the real inference path)",
        f"- 4-class accuracy: **{_percent(validation['overall_accuracy_4class'])}** on {validation['n_images']} images ({validation['n_errors']} unreadable).",
        f"- Tumour vs no tumour: sensitivity **{_percent(binary['sensitivity'])}**, specificity **{_percent(binary['specificity'])}** (tp {binary['tp']}, fn {binary['fn']}, tn {binary['tn']}, fp {binary['fp']}).",
        f"- Abstained: {validation['abstained']['count']} ({_percent(validation['abstained']['rate'])}); accuracy on accepted: {_percent(validation['accuracy_on_accepted'])}.",
        "",
        "| class | n | precision | recall | F1 |",
        "|---|---|---|---|---|",
        *[f"| {name} | {row['n']} | {_percent(row['precision'])} | {_percent(row['recall'])} | {_percent(row['f1'])} |" for name, row in validation["per_class"].items()],
        "",
        "Confusion matrix (rows true, columns predicted; `ml/artifacts/confusion_matrix.png`):",
        "",
        "| true \\ predicted | " + " | ".join(card["class_names"]) + " |",
        "|---|" + "---|" * len(card["class_names"]),
        *[f"| {name} | " + " | ".join(str(value) for value in row) + " |" for name, row in zip(card["class_names"], validation["confusion"]["rows_true_columns_predicted"])],
        "",
        *_suspected_label_error_lines(card["suspected_label_errors"]),
        "## Calibration and abstention",
        f"- Temperature {calibration['temperature']:.3f} ({calibration['method']}).",
        f"- ECE ({calibration['ece_bins']} bins): {_percent(calibration['ece_before'])} before, {_percent(calibration['ece_after'])} after. NLL: {calibration['nll_before']:.4f} before, {calibration['nll_after']:.4f} after.",
        f"- Abstain when calibrated confidence < **{card['abstention']['confidence_threshold']:.2f}**. Rule: {card['abstention']['rule']}.",
        "",
        "| threshold | coverage | accuracy on accepted |",
        "|---|---|---|",
        *[f"| {row['threshold']:.2f} | {_percent(row['coverage'])} | {_percent(row['accuracy_on_accepted'])} |" for row in card["abstention"]["tradeoff"]],
        "",
        "## Not-a-brain-MRI check",
        f"- Method: {ood['method']}.",
        f"- Fitted on {ood['fitted_on']}; threshold {ood['threshold']:.2f} = {ood['threshold_rule']}.",
        f"- Non-MRI images ({ood['non_mri_images']['source']}): **{ood['non_mri_images']['flagged']} / {ood['non_mri_images']['n']} flagged ({_percent(ood['non_mri_images']['flagged_rate'])})**.",
        "- By kind: " + ", ".join(f"{kind} {row['flagged']}/{row['n']}" for kind, row in ood["non_mri_images"]["by_kind"].items()) + ".",
        f"- Not flagged: {', '.join(ood['non_mri_images']['not_flagged']) or 'none'}.",
        f"- Held-out kinds ({ood['held_out_non_mri_images']['source']}): **{ood['held_out_non_mri_images']['flagged']} / {ood['held_out_non_mri_images']['n']} flagged "
        f"({_percent(ood['held_out_non_mri_images']['flagged_rate'])})**; {ood['held_out_non_mri_images']['abstained_any_reason']} abstained for any reason. "
        "By kind: " + ", ".join(f"{kind} {row['flagged']}/{row['n']}" for kind, row in ood["held_out_non_mri_images"]["by_kind"].items())
        + f". Accepted as a brain MRI: {', '.join(ood['held_out_non_mri_images']['accepted_as_mri']) or 'none'}.",
        f"- Validation MRIs flagged as not MRI: **{_percent(ood['validation_mri_flagged_rate'])}**; perturbed validation MRIs: see the perturbation table (column 'refused as not MRI').",
        f"- Caveat: {ood['caveat']}",
        "",
        "## Shortcut checks",
        "Accuracy by original image size (figshare tumour images are mostly 512x512, Br35H notumor images are not):",
        "",
        "| original size | n | glioma / meningioma / notumor / pituitary | 4-class accuracy | tumour recall | notumor specificity |",
        "|---|---|---|---|---|---|",
        *[
            f"| {bucket} | {row['n']} | {' / '.join(str(row['per_class_n'][name]) for name in card['class_names'])} | {_percent(row['accuracy_4class'])} | {_percent(row['tumour_recall'])} | {_percent(row['notumor_specificity'])} |"
            for bucket, row in card["accuracy_by_original_size"].items()
        ],
        "",
        "Validation images perturbed BEFORE preprocessing (as another scanner or export would):",
        "",
        "| perturbation | 4-class accuracy | tumour recall | notumor specificity | same, without suspected label errors | refused as not MRI | abstained (any reason) |",
        "|---|---|---|---|---|---|---|",
        *[
            f"| {name} | {_percent(row['accuracy_4class'])} | {_percent(row['tumour_recall'])} | {_percent(row['notumor_specificity'])} | {_percent(row['notumor_specificity_without_suspected_label_errors'])} | {_percent(row['flagged_not_mri_rate'])} | {_percent(row['abstained_rate'])} |"
            for name, row in card["perturbations"].items()
        ],
        "",
        *[f"- {name}: {note}." for name, note in card["perturbation_notes"].items()],
        "",
        *_other_sequence_lines(card["other_sequence_tumours"]),
        *_second_reader_lines(card["second_reader"]),
        "## Latency (`python -m ml.bench`, batch 1, this machine's 2-core CPU, after warm-up)",
        f"- {len(bench['predict_p50_of_each_run'])} runs, predict p50 of each: {', '.join(f'{value:.1f}' for value in bench['predict_p50_of_each_run'])} ms; the figures below are from the median run.",
        f"- predict p50 {bench['predict_ms']['p50']:.1f} ms, p95 {bench['predict_ms']['p95']:.1f} ms (preprocessing + forward pass + calibration + OOD check, + the second reader where the first says 'no tumour').",
        f"- predict + Grad-CAM p50 {bench['predict_gradcam_ms']['p50']:.1f} ms, p95 {bench['predict_gradcam_ms']['p95']:.1f} ms.",
        f"- The second reader read {_percent(bench['second_reader_rate'])} of these calls (the slices the first reader calls 'no tumour'); on those alone predict p50 {bench['predict_ms_with_second_reader']['p50']:.1f} ms, "
        f"predict + Grad-CAM p50 {bench['predict_gradcam_ms_with_second_reader']['p50']:.1f} ms. A mix with more normal slices has a higher median.",
        f"- model load {bench['model_load_ms']:.0f} ms; 1-minute load average during the run {bench['load_average_1min']:.2f} (other work shared the 2 cores); peak RSS {bench['peak_rss_mb']:.0f} MB; TensorFlow threads intra {bench['threads']['intra_op']}, inter {bench['threads']['inter_op']}; "
        f"{bench['images']} validation images cycled (sizes {', '.join(bench['image_shapes'])}), {_percent(bench['second_view_rate'])} of them take the mirror-view pass.",
        "",
        "## Limitations",
        *[f"- {item}" for item in card["limitations"]],
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights-dir", type=Path, default=config.WEIGHTS_DIR)
    arguments = parser.parse_args(argv)
    from ml.train import configure_tensorflow

    configure_tensorflow()
    config.ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    card = build_card(arguments.weights_dir)
    (arguments.weights_dir / config.MODEL_CARD_JSON_NAME).write_text(json.dumps(card, indent=1) + "\n")
    MARKDOWN_FILE.write_text(render_markdown(card))
    print(json.dumps({"version": card["version"], "accuracy": card["validation"]["overall_accuracy_4class"], "binary": card["validation"]["binary"]}))


if __name__ == "__main__":
    main()
