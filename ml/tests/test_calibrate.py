"""The no-tumour threshold's choice and its cross-fitted (honest) estimate, on made-up outputs."""

import numpy as np

from ml.calibrate import choose_no_tumour_threshold, cross_fitted_no_tumour
from ml.decision import Thresholds

# CLASS_NAMES order: glioma, meningioma, notumor, pituitary
TUMOUR, NORMAL, UNSURE_MISS = [0.9, 0.0, 0.1, 0.0], [0.02, 0.01, 0.96, 0.01], [0.03, 0.0, 0.97, 0.0]
BASE = Thresholds(abstain=0.5, no_tumour=0.5, not_mri=0.5, distance=100.0, no_tumour_distance=100.0)


def _validation():
    rows, truth, patients = [], [], []
    for patient in range(20):
        rows += [TUMOUR] * 5 + [NORMAL] * 5
        truth += [0] * 5 + [2] * 5
        patients += [f"p{patient}"] * 10
    rows.append(UNSURE_MISS)  # one confident-looking "no tumour" on a tumour slice, in its own patient
    truth.append(0)
    patients.append("x")
    n = len(rows)
    return np.array(rows), np.zeros(n), np.ones(n), np.array(truth), {"kaggle": np.ones(n, bool)}, patients


def test_the_threshold_chosen_on_all_validation_hides_the_miss_it_was_chosen_around():
    probabilities, not_mri, distances, truth, groups, _ = _validation()
    threshold, table = choose_no_tumour_threshold(probabilities, not_mri, distances, truth, groups, BASE)
    assert threshold == 0.971 and table[-1]["silent_miss_rate"]["kaggle"] == 0.0
    assert table[0]["silent_miss_rate"]["kaggle"] == 1 / 101  # at 0.50 the odd slice is a silent miss


def test_the_cross_fitted_estimate_counts_the_miss_that_the_other_half_could_not_foresee():
    probabilities, not_mri, distances, truth, groups, patients = _validation()
    estimate = cross_fitted_no_tumour(probabilities, not_mri, distances, truth, groups, patients, BASE)
    assert sorted(estimate["thresholds"]) == [0.5, 0.971]
    kaggle = estimate["by_group"]["kaggle"]
    assert kaggle["silent_misses"] == 1 and kaggle["tumour_slices"] == 101
    # The half measured with 0.971 answers none of its 0.96 no-tumour slices; the other half all of them.
    assert 0.0 < kaggle["no_tumour_coverage"] < 1.0
