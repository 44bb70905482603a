import json
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ml import config
from ml.calibration import softmax
from ml.inference import Classifier, get_classifier, lesion_weights, normalise_cam
from ml.preprocess import preprocess
from ml.tests.conftest import head_like_slice


def skimage_photo(name: str) -> np.ndarray:
    import skimage

    with Image.open(Path(skimage.__file__).parent / "data" / name) as picture:
        return np.asarray(picture)


def test_result_probabilities_are_calibrated_and_consistent(classifier, mri_slice):
    result = classifier.predict(mri_slice)
    assert tuple(result.probabilities) == config.CLASS_NAMES
    assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    assert result.label == max(result.probabilities, key=result.probabilities.get)
    assert result.confidence == pytest.approx(max(result.probabilities.values()))
    assert result.model_version == classifier.model_version
    assert result.abstained == (result.abstain_reason is not None)


def test_result_serialises_to_json(classifier, mri_slice):
    payload = json.loads(json.dumps(classifier.predict(mri_slice).to_dict()))
    assert set(payload) == {"label", "probabilities", "confidence", "abstained", "abstain_reason", "model_version", "timings_ms", "abstain_kind", "technical_detail"}


def test_it_accepts_every_input_kind(classifier):
    grey = head_like_slice()
    for image in (grey, grey.astype(np.uint16) * 200, np.dstack([grey] * 3), np.dstack([grey] * 3 + [np.full_like(grey, 255)]), grey / 255.0):
        assert sum(classifier.predict(image).probabilities.values()) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((256, 256), np.uint8),
        np.full((300, 300, 3), 200, np.uint8),
        np.random.default_rng(0).integers(0, 256, (256, 256), dtype=np.uint8),
        np.random.default_rng(1).random((200, 200)).astype(np.float32),
    ],
    ids=["black", "flat_colour", "noise_uint8", "noise_float"],
)
def test_it_abstains_on_blank_and_noise(classifier, image):
    result = classifier.predict(image)
    assert result.abstained
    assert "brain MRI" in result.abstain_reason or "blank" in result.abstain_reason


@pytest.mark.parametrize("photo", ["astronaut.png", "coffee.png", "camera.png", "page.png"])
def test_it_refuses_photos_and_documents(classifier, photo):
    result = classifier.predict(skimage_photo(photo))
    assert result.abstained
    assert result.refused_as_not_mri


def test_analyse_draws_no_heat_map_over_a_refused_image(classifier):
    result, explanation = classifier.analyse(skimage_photo("astronaut.png"))
    assert result.refused_as_not_mri and explanation is None
    assert result.timings_ms["gradcam"] == 0.0
    assert classifier.explain(skimage_photo("astronaut.png")).heatmap.shape == (512, 512)  # asked for, it still draws


def test_it_refuses_digits_blobs_and_charts_it_was_never_tuned_on(classifier):
    from ml.ood_samples import held_out_non_mri_images

    pictures = [(name, image) for name, image in held_out_non_mri_images() if not name.startswith("face_")]
    refused = [name for name, image in pictures if classifier.predict(image).refused_as_not_mri]
    assert len(pictures) == 20
    assert refused == [name for name, _ in pictures]


def test_it_refuses_tiny_and_extremely_elongated_images(classifier, mri_slice):
    assert classifier.predict(head_like_slice(30, 30, margin=2)).abstained
    assert "aspect ratio" in classifier.predict(np.tile(head_like_slice(), (1, 4))).abstain_reason


def test_it_does_not_refuse_real_mri_slices(classifier, mri_slice):
    result = classifier.predict(mri_slice)
    assert not result.refused_as_not_mri


def test_gradcam_heatmap_has_the_original_size_and_unit_range(classifier):
    image = head_like_slice(310, 250)
    explanation = classifier.explain(image)
    assert explanation.heatmap.shape == (310, 250)
    assert explanation.heatmap.dtype == np.float32
    assert 0.0 <= explanation.heatmap.min() and explanation.heatmap.max() <= 1.0
    assert explanation.overlay.shape == (310, 250, 3) and explanation.overlay.dtype == np.uint8
    assert explanation.class_name == classifier.predict(image).label


def test_gradcam_is_zero_outside_the_crop_box(classifier, mri_slice):
    grey = mri_slice if mri_slice.ndim == 2 else mri_slice[:, :, 0]
    framed = np.zeros((grey.shape[0] + 200, grey.shape[1] + 200), grey.dtype)
    framed[100:-100, 100:-100] = grey
    heatmap = classifier.explain(framed).heatmap
    assert heatmap[:50].max() == 0.0 and heatmap[:, :50].max() == 0.0


def test_gradcam_differs_between_classes(classifier, mri_slice):
    maps = [classifier.explain(mri_slice, name).heatmap for name in config.CLASS_NAMES]
    assert any(not np.allclose(maps[0], other, atol=1e-3) for other in maps[1:])


def test_explain_rejects_unknown_classes(classifier, mri_slice):
    with pytest.raises(ValueError):
        classifier.explain(mri_slice, "astrocytoma")


def test_lesion_weights_confine_the_heat_once_the_head_calls_a_lesion_and_leave_it_alone_otherwise():
    logits = np.full((20, 20), -6.0, np.float32)  # p(lesion) ~ 0.0025 everywhere
    assert np.asarray(lesion_weights(logits)).min() > 0.99  # nothing seen: plain Grad-CAM
    logits[5, 7] = 4.0  # one cell at p ~ 0.98: the gate is fully on
    weights = np.asarray(lesion_weights(logits))
    assert weights[5, 7] == pytest.approx(1 / (1 + np.exp(-4.0)), abs=1e-5) and weights.max() == weights[5, 7]
    assert np.delete(weights.ravel(), 5 * 20 + 7).max() < 0.01
    logits[5, 7] = 0.0  # p = 0.5 at most: still fully on
    assert np.asarray(lesion_weights(logits))[0, 0] < 0.01
    logits[5, 7] = -np.log(3.0)  # p = 0.25 at most: half on
    assert np.asarray(lesion_weights(logits))[0, 0] == pytest.approx(0.5 + 0.5 * 0.0025, abs=1e-3)
    assert np.allclose(np.asarray(lesion_weights(logits, strength=0.0)), 1.0)


def test_for_the_class_whose_masks_the_lesion_head_learnt_its_map_confines_the_heat_however_faint():
    logits = np.full((20, 20), -6.0, np.float32)
    logits[5, 7] = -3.0  # p ~ 0.047 at most: the gated rule would leave the heat plain
    assert np.asarray(lesion_weights(logits)).min() > 0.9
    weights = np.asarray(lesion_weights(logits, learnt_class=True))
    assert np.allclose(weights, 1 / (1 + np.exp(-logits)), atol=1e-6)  # w = p(lesion) exactly
    assert np.unravel_index(int(np.argmax(weights)), weights.shape) == (5, 7)
    assert np.allclose(np.asarray(lesion_weights(logits, learnt_class=True, strength=0.0)), 1.0)


def test_plain_gradcam_is_available_for_measuring_and_has_the_same_frame(classifier, mri_slice):
    weighted, plain = (classifier.explain(mri_slice, "glioma", lesion_weighted=flag) for flag in (True, False))
    assert weighted.heatmap.shape == plain.heatmap.shape and weighted.class_name == plain.class_name == "glioma"
    assert all(heat.max() == 0.0 or 0.9 < heat.max() <= 1.0 for heat in (weighted.heatmap, plain.heatmap))  # each normalised on its own


def test_normalise_cam_guards_the_all_zero_case():
    assert normalise_cam(np.zeros((10, 10), np.float32)).max() == 0.0
    assert normalise_cam(np.array([[0.0, 2.0]], np.float32)).tolist() == [[0.0, 1.0]]


def test_analyse_matches_predict_and_fills_timings(classifier, mri_slice):
    result, explanation = classifier.analyse(mri_slice)
    assert result.probabilities == pytest.approx(classifier.predict(mri_slice).probabilities, abs=1e-5)
    assert explanation.class_name == result.label
    assert set(result.timings_ms) == {"preprocess", "predict", "gradcam", "total"}


def test_predict_analyse_and_the_calibration_path_give_one_answer(classifier):
    from ml.calibrate import network_outputs

    diagnoses = len(config.CLASS_NAMES)
    for seed in range(3):
        image = head_like_slice(seed=seed)
        image[110:130, 70:90] = 120 + 40 * seed  # something to decide about
        square = preprocess(image, classifier.image_size)
        logits, _ = network_outputs(classifier.model, square[np.newaxis])
        expected = dict(zip(config.CLASS_NAMES, softmax(logits[:, :diagnoses], classifier.temperature)[0]))
        assert classifier.predict(image).probabilities == pytest.approx(expected, abs=1e-5)
        assert classifier.analyse(image)[0].probabilities == pytest.approx(expected, abs=1e-5)


def test_bad_input_raises_value_error(classifier):
    with pytest.raises(ValueError):
        classifier.predict(np.full((32, 32), np.nan, np.float32))


def test_get_classifier_is_one_instance_across_threads():
    instances = []
    threads = [threading.Thread(target=lambda: instances.append(get_classifier())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(instance) for instance in instances}) == 1
    assert isinstance(instances[0], Classifier)
    assert instances[0].model_card["version"] == config.MODEL_VERSION
