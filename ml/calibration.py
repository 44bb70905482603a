"""Temperature scaling, calibration metrics and the confidence threshold for abstaining.

All functions are pure numpy: logits (N, K), integer labels (N,).
"""

import numpy as np
from scipy.optimize import minimize_scalar

from ml import config

# Abstain threshold rule: the lowest threshold whose accepted validation images reach this
# accuracy, as long as at least MIN_COVERAGE of images are still accepted.
TARGET_ACCURACY_ON_ACCEPTED = 0.995
MIN_COVERAGE = 0.90
THRESHOLD_GRID = tuple(round(value, 2) for value in np.arange(0.40, 0.991, 0.01))


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """(N, K) logits -> (N, K) probabilities of logits / temperature."""
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exponentials = np.exp(scaled)
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, 1.0))))


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = config.ECE_BINS) -> float:
    """Top-label ECE with equal-width confidence bins."""
    confidences = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    error = 0.0
    for low, high in zip(edges[:-1], edges[1:]):
        in_bin = (confidences > low) & (confidences <= high)
        if in_bin.any():
            error += in_bin.mean() * abs(confidences[in_bin].mean() - correct[in_bin].mean())
    return float(error)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising validation NLL (searched on a log scale, 0.05..20)."""
    result = minimize_scalar(
        lambda log_temperature: negative_log_likelihood(softmax(logits, np.exp(log_temperature)), labels),
        bounds=(np.log(0.05), np.log(20.0)),
        method="bounded",
    )
    return float(np.exp(result.x))


def coverage_table(confidences: np.ndarray, correct: np.ndarray) -> list[dict]:
    """For each threshold on the grid: share of images accepted and accuracy among them."""
    table = []
    for threshold in THRESHOLD_GRID:
        accepted = confidences >= threshold
        table.append(
            {
                "threshold": threshold,
                "coverage": float(accepted.mean()),
                "accuracy_on_accepted": float(correct[accepted].mean()) if accepted.any() else None,
            }
        )
    return table


def choose_abstain_threshold(confidences: np.ndarray, correct: np.ndarray) -> float:
    """Lowest grid threshold reaching TARGET_ACCURACY_ON_ACCEPTED while coverage >= MIN_COVERAGE;
    if none does, the highest threshold that still keeps MIN_COVERAGE."""
    table = coverage_table(confidences, correct)
    allowed = [row for row in table if row["coverage"] >= MIN_COVERAGE]
    if not allowed:
        return THRESHOLD_GRID[0]
    for row in allowed:
        if row["accuracy_on_accepted"] is not None and row["accuracy_on_accepted"] >= TARGET_ACCURACY_ON_ACCEPTED:
            return row["threshold"]
    return allowed[-1]["threshold"]
