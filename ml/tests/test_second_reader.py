"""The second reader: asked only about slices the first reader calls "no tumour", and flagged when it overrules."""

import numpy as np
import pytest

from ml import config
from ml import wording
from ml.inference import Classifier, _Reader, second_reader_finds_tumour
from ml.tests.conftest import require_data_or_skip


def probabilities(**named: float) -> np.ndarray:
    values = np.array([named.get(name, 0.0) for name in config.CLASS_NAMES])
    return values / values.sum()


def test_the_rule_overrules_only_no_tumour_and_only_with_a_tumour():
    assert second_reader_finds_tumour(probabilities(notumor=0.9, glioma=0.1), probabilities(notumor=0.3, meningioma=0.7))
    assert not second_reader_finds_tumour(probabilities(notumor=0.9, glioma=0.1), probabilities(notumor=0.6, meningioma=0.4))
    # A tumour answer is never taken back, whatever the second reader says.
    assert not second_reader_finds_tumour(probabilities(pituitary=0.8, notumor=0.2), probabilities(notumor=1.0))


def reader_that_always_says(class_name: str) -> _Reader:
    """A real network of the product's design whose output bias fixes its answer (real gradients for Grad-CAM)."""
    from ml.model import build_model

    model = build_model(config.IMAGE_SIZE)
    weights, bias = model.get_layer("logits").get_weights()
    bias[:] = -8.0
    bias[config.CLASS_NAMES.index(class_name)] = 8.0
    model.get_layer("logits").set_weights([weights * 0.01, bias])
    return _Reader(model, temperature=1.0)


def with_second_reader(classifier: Classifier, second_reader: _Reader) -> Classifier:
    return Classifier(classifier.reader, classifier.abstain_threshold, classifier.detector, classifier.model_card, second_reader)


def validation_images(class_name: str, count: int, step: int = 1) -> list[np.ndarray]:
    from ml.data import decode_image_file, read_split

    names = [name for name in read_split()["validation"] if name.startswith(f"{class_name}/")][::step][:count]
    return [decode_image_file(config.training_images_dir() / name) for name in names]


@pytest.fixture(scope="module")
def no_tumour_slice(classifier) -> np.ndarray:
    """A real validation slice the first reader alone calls "no tumour" and accepts as a brain MRI."""
    require_data_or_skip()
    first_reader_only = with_second_reader(classifier, None)
    for image in validation_images("notumor", 20):
        result = first_reader_only.predict(image)
        if result.label == config.NO_TUMOUR_CLASS and not result.abstained:
            return image
    pytest.fail("no confidently accepted no-tumour slice among the first 20 validation files")


def test_the_committed_classifier_has_a_second_reader(classifier):
    assert classifier.second_reader is not None
    assert classifier.second_reader.image_size == classifier.image_size


def test_a_second_reader_finding_a_tumour_answers_and_the_slice_is_flagged(classifier, no_tumour_slice):
    overruling = with_second_reader(classifier, reader_that_always_says("glioma"))
    result = overruling.predict(no_tumour_slice)
    assert result.label == "glioma" and result.label == max(result.probabilities, key=result.probabilities.get)
    assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    assert result.abstained and result.abstain_kind == wording.SECOND_READER
    assert result.second_reader_answered and not result.refused_as_not_mri
    assert "second_reader" in result.timings_ms

    analysed, explanation = overruling.analyse(no_tumour_slice)
    assert analysed.label == "glioma" and analysed.second_reader_answered
    assert explanation.class_name == "glioma"  # the heat map is the second reader's, for its answer
    assert explanation.heatmap.shape == no_tumour_slice.shape[:2]


def test_a_second_reader_agreeing_leaves_the_first_answer(classifier, no_tumour_slice):
    agreeing = with_second_reader(classifier, reader_that_always_says("notumor"))
    result = agreeing.predict(no_tumour_slice)
    assert result.label == config.NO_TUMOUR_CLASS and not result.abstained
    assert "second_reader" in result.timings_ms  # it was asked


def test_a_tumour_answer_is_never_read_twice(classifier):
    require_data_or_skip()
    taking_back = with_second_reader(classifier, reader_that_always_says("notumor"))
    images = validation_images("pituitary", 5)
    results = [taking_back.predict(image) for image in images]
    first_reader_only = with_second_reader(classifier, None)
    first_answers = [first_reader_only.predict(image).label for image in images]
    assert config.NO_TUMOUR_CLASS not in first_answers, "precondition: the first reader finds a tumour in each"
    assert [result.label for result in results] == first_answers
    assert not any("second_reader" in result.timings_ms or result.second_reader_answered for result in results)


def test_the_committed_second_reader_recovers_tumours_whose_tissue_contrast_is_reversed(classifier):
    """The reason it exists: T2-like grey levels (bright CSF) made the first reader say "no tumour"."""
    require_data_or_skip()
    from ml.robustness import PERTURBATIONS

    invert = PERTURBATIONS["invert_inside_head"]
    tumours = [invert(image) for name in ("glioma", "meningioma", "pituitary") for image in validation_images(name, 20, step=9)]
    first_reader_only = with_second_reader(classifier, None)
    missed_by_first = sum(first_reader_only.predict(image).label == config.NO_TUMOUR_CLASS for image in tumours)
    missed = sum(classifier.predict(image).label == config.NO_TUMOUR_CLASS for image in tumours)
    assert missed_by_first >= 10, f"precondition: the first reader alone misses many ({missed_by_first} of {len(tumours)})"
    assert missed <= len(tumours) * 0.15 and missed < missed_by_first / 2
