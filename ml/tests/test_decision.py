"""The safety-first decision rule (ml.decision.decide): a 'no tumour' answer needs more than a tumour answer."""

import numpy as np
import pytest

from ml import wording
from ml.decision import Thresholds, decide

THRESHOLDS = Thresholds(abstain=0.80, no_tumour=0.97, not_mri=0.30, distance=30.0, no_tumour_distance=20.0)


def probabilities(glioma=0.0, meningioma=0.0, notumor=0.0, pituitary=0.0) -> np.ndarray:
    return np.array([glioma, meningioma, notumor, pituitary])


def test_a_confident_tumour_answer_is_given_without_a_flag():
    assert decide(probabilities(glioma=0.85, notumor=0.15), 0.01, 10.0, THRESHOLDS).kind is None


def test_a_confident_tumour_answer_on_an_unfamiliar_slice_goes_to_a_person():
    # Inside the refusal distance, outside the stricter one: a kind of image never shown in training
    # (head CT in a fold without it) lands here far more often than a brain MRI does.
    decision = decide(probabilities(glioma=0.95, notumor=0.05), 0.01, 25.0, THRESHOLDS)
    assert decision.kind == wording.UNSURE
    assert "glioma 95 %" in decision.reason and "unlike the brain MRIs" in decision.reason
    assert "25.0 > 20.0" in decision.detail


def test_a_no_tumour_answer_as_confident_as_an_accepted_tumour_answer_still_abstains():
    decision = decide(probabilities(notumor=0.85, glioma=0.15), 0.01, 10.0, THRESHOLDS)
    assert decision.kind == wording.NO_TUMOUR_UNCONFIRMED
    assert "a person should look" in decision.reason and "0.850" in decision.detail


def test_a_sure_no_tumour_answer_on_a_familiar_slice_is_given():
    assert decide(probabilities(notumor=0.99, glioma=0.01), 0.01, 10.0, THRESHOLDS).kind is None


def test_a_sure_no_tumour_answer_on_an_unfamiliar_slice_abstains():
    # Inside the refusal distance (an MRI), outside the stricter distance a "no tumour" answer needs.
    assert decide(probabilities(notumor=0.99, glioma=0.01), 0.01, 25.0, THRESHOLDS).kind == wording.NO_TUMOUR_UNCONFIRMED


def test_an_unsure_tumour_answer_abstains_with_the_two_likeliest_classes():
    decision = decide(probabilities(glioma=0.51, meningioma=0.40, notumor=0.09), 0.01, 10.0, THRESHOLDS)
    assert decision.kind == wording.UNSURE and "glioma 51 %, meningioma 40 %" in decision.reason


@pytest.mark.parametrize("not_mri, distance, problem", [(0.30, 10.0, None), (0.01, 30.5, None), (0.01, 10.0, "The image is blank.")])
def test_refusals_win_over_any_diagnosis(not_mri, distance, problem):
    decision = decide(probabilities(glioma=0.99, notumor=0.01), not_mri, distance, THRESHOLDS, problem)
    assert decision.kind == wording.NOT_MRI
    assert "feature distance" not in decision.reason.lower()  # numbers stay in the technical detail


def test_thresholds_come_from_the_calibration_record():
    record = {"abstain_threshold": 0.8, "no_tumour_threshold": 0.97, "not_mri_threshold": 0.3, "ood_threshold": 30.0, "no_tumour_distance_threshold": 20.0}
    assert Thresholds.from_calibration(record) == THRESHOLDS
