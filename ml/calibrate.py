"""Fit what sits on top of the trained network, all from the grouped split:

- the softmax temperature (minimum NLL on the validation split),
- the confidence threshold for abstaining (see ml.calibration.choose_abstain_threshold),
- the Mahalanobis out-of-distribution detector (Gaussian on clean + augmented training
  features; threshold = OOD_PERCENTILE of clean + augmented training/validation distances).

    python -m ml.calibrate            # writes ml/weights/calibration.json and ood.npz
"""

import argparse
import json
from pathlib import Path

import numpy as np

from ml import config
from ml.calibration import (
    choose_abstain_threshold,
    coverage_table,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    softmax,
)
from ml.ood import MahalanobisDetector

AUGMENTED_COPIES = 2  # augmented passes over the training and validation images for the OOD fit


def network_outputs(model, images: np.ndarray, batch_size: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """float (N, S, S) in [0, 1] -> (logits (N, K), OOD features (N, D)), as the classifier computes them."""
    from ml.model import classifier_outputs, inference_outputs_model

    outputs_model = inference_outputs_model(model)
    logits, features = [], []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size, :, :, np.newaxis].astype(np.float32)
        batch_logits, batch_features = classifier_outputs(outputs_model, batch)
        logits.append(np.asarray(batch_logits))
        features.append(np.asarray(batch_features))
    return np.concatenate(logits).astype(np.float64), np.concatenate(features).astype(np.float64)


def augmented(images: np.ndarray, seed: int) -> np.ndarray:
    """uint8 (N, S, S) -> float32 (N, S, S): one pass of the training augmentation."""
    import tensorflow as tf

    from ml.augment import augment_batch, random_jpeg

    tf.random.set_seed(seed)
    pipeline = (
        tf.data.Dataset.from_tensor_slices((images, np.zeros(len(images), np.int32)))
        .map(lambda image, label: (random_jpeg(image), label))
        .batch(128)
        .map(augment_batch)
    )
    return np.concatenate([batch.numpy()[..., 0] for batch, _ in pipeline])


def calibrate(weights_dir: Path, split_file: Path, cache_path: Path) -> dict:
    import keras

    import ml.model  # noqa: F401  registers the custom layer
    from ml.data import read_split
    from ml.train import split_indices

    model = keras.models.load_model(weights_dir / config.WEIGHTS_FILE_NAME, compile=False)
    with np.load(cache_path) as arrays:
        images, labels, paths = arrays["images"], arrays["labels"], arrays["paths"]
    train_index, validation_index = split_indices(paths, read_split(split_file)["validation"])
    train_images, validation_images = images[train_index], images[validation_index]
    train_labels, validation_labels = labels[train_index], labels[validation_index]

    validation_logits, validation_features = network_outputs(model, validation_images / 255.0)
    temperature = fit_temperature(validation_logits, validation_labels)
    before, after = softmax(validation_logits), softmax(validation_logits, temperature)
    confidences, correct = after.max(axis=1), after.argmax(axis=1) == validation_labels
    threshold = choose_abstain_threshold(confidences, correct)

    _, train_features = network_outputs(model, train_images / 255.0)
    augmented_train_features = [network_outputs(model, augmented(train_images, seed))[1] for seed in range(AUGMENTED_COPIES)]
    augmented_validation_features = [network_outputs(model, augmented(validation_images, 100 + seed))[1] for seed in range(AUGMENTED_COPIES)]
    fit_features = np.concatenate([train_features, *augmented_train_features])
    fit_labels = np.concatenate([train_labels] * (1 + AUGMENTED_COPIES))
    reference = np.concatenate([validation_features, *augmented_validation_features, *augmented_train_features])
    detector = MahalanobisDetector.fit(fit_features, fit_labels, reference, len(config.CLASS_NAMES), config.OOD_PERCENTILE)
    detector.save(weights_dir / config.OOD_FILE_NAME)
    ood_threshold = detector.threshold

    calibration = {
        "temperature": temperature,
        "abstain_threshold": threshold,
        "ece_before": expected_calibration_error(before, validation_labels),
        "ece_after": expected_calibration_error(after, validation_labels),
        "nll_before": negative_log_likelihood(before, validation_labels),
        "nll_after": negative_log_likelihood(after, validation_labels),
        "ood_threshold": ood_threshold,
        "ood_percentile": config.OOD_PERCENTILE,
        "ood_layers": list(config.OOD_FEATURE_LAYERS),
        "ood_fit": f"{len(fit_labels)} training feature vectors (clean + {AUGMENTED_COPIES} augmented copies)",
        "coverage_table": coverage_table(confidences, correct),
    }
    (weights_dir / config.CALIBRATION_FILE_NAME).write_text(json.dumps(calibration, indent=1) + "\n")
    return calibration


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights-dir", type=Path, default=config.WEIGHTS_DIR)
    parser.add_argument("--split-file", type=Path, default=config.SPLIT_FILE)
    parser.add_argument("--cache", type=Path, default=None)
    arguments = parser.parse_args(argv)
    from ml.data import default_cache_file
    from ml.train import configure_tensorflow

    configure_tensorflow()
    calibration = calibrate(arguments.weights_dir, arguments.split_file, arguments.cache or default_cache_file(config.IMAGE_SIZE))
    summary = {key: value for key, value in calibration.items() if key != "coverage_table"}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
