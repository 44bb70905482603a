"""The interface the portal calls: Classifier.load / predict / explain / analyse, get_classifier().

    result, explanation = get_classifier().analyse(image)   # image: numpy array as decoded

One preprocessing function (ml.preprocess), a compiled forward pass, temperature-scaled
probabilities, abstention (input checks, Mahalanobis out-of-distribution distance, low
confidence), a second reader for slices called "no tumour", and Grad-CAM from the real
gradients at the last convolutional block of the reader that answered.
"""

import json
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from ml import config, wording
from ml.calibration import softmax
from ml.ood import MahalanobisDetector, input_check_reason
from ml.preprocess import CropGeometry, map_to_original, preprocess_grey, to_grey

CLASS_NAMES = config.CLASS_NAMES
NO_TUMOUR_INDEX = CLASS_NAMES.index(config.NO_TUMOUR_CLASS)
OVERLAY_MAX_ALPHA = 0.6  # heat-map opacity where the heat is 1; cold regions show the scan itself


@dataclass(frozen=True)
class ClassificationResult:
    label: str  # argmax class name
    probabilities: dict[str, float]  # calibrated, sums to 1, keys = CLASS_NAMES
    confidence: float  # calibrated max probability
    abstained: bool
    abstain_reason: str | None  # a plain sentence for a clinician (ml.wording), None when not abstained
    model_version: str
    timings_ms: dict[str, float]
    abstain_kind: str | None = None  # one of ml.wording.ABSTAIN_KINDS, None when not abstained
    technical_detail: str = ""  # distances and thresholds behind the decision, for the record

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def refused_as_not_mri(self) -> bool:
        """Abstained because the image must not be judged (bad input, not a brain MRI), not because of doubt.

        A refusal carries no finding: its label and probabilities are not to be shown as one."""
        return self.abstain_kind == wording.NOT_MRI

    @property
    def second_reader_answered(self) -> bool:
        return self.abstain_kind == wording.SECOND_READER


@dataclass(frozen=True)
class Explanation:
    class_name: str
    heatmap: np.ndarray  # float32 (H, W) of the ORIGINAL image, values in [0, 1]
    overlay: np.ndarray  # uint8 (H, W, 3) RGB


@dataclass(frozen=True)
class _Prepared:
    """One image after the single preprocessing pass, shared by predict and explain."""

    original: np.ndarray
    model_input: np.ndarray  # float32 (1, S, S, 1)
    geometry: CropGeometry
    input_problem: str | None
    preprocess_ms: float


def _milliseconds_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 3)


def _display_image(image: np.ndarray) -> np.ndarray:
    """Any input -> uint8 (H, W, 3) RGB for the overlay, grey stretched between its 0.5/99.5 percentiles."""
    if image.ndim == 3 and image.shape[2] >= 3 and image.dtype == np.uint8:
        return np.ascontiguousarray(image[:, :, :3])
    grey = to_grey(image)
    low, high = np.percentile(grey, [0.5, 99.5])
    scaled = np.clip((grey - low) / max(high - low, 1e-6), 0.0, 1.0)
    return np.repeat((scaled * 255).astype(np.uint8)[:, :, np.newaxis], 3, axis=2)


def make_overlay(image: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """Original image + (H, W) heat in [0, 1] -> uint8 (H, W, 3) RGB, JET colours alpha-blended by heat."""
    base = _display_image(image).astype(np.float32)
    colours = cv2.applyColorMap((heatmap * 255).astype(np.uint8), cv2.COLORMAP_JET)
    colours = cv2.cvtColor(colours, cv2.COLOR_BGR2RGB).astype(np.float32)
    alpha = (OVERLAY_MAX_ALPHA * heatmap)[:, :, np.newaxis]
    return np.clip(base * (1.0 - alpha) + colours * alpha, 0, 255).astype(np.uint8)


def normalise_cam(cam: np.ndarray) -> np.ndarray:
    """(h, w) non-negative class activation -> float32 in [0, 1]; all zeros stays all zeros."""
    peak = float(cam.max()) if cam.size else 0.0
    if not np.isfinite(peak) or peak <= 1e-12:
        return np.zeros_like(cam, dtype=np.float32)
    return (cam / peak).astype(np.float32)


def class_activation(conv_maps, gradients):
    """Grad-CAM before its ReLU: (h, w, C) maps and d(score)/d(maps) -> (h, w)."""
    import tensorflow as tf

    channel_weights = tf.reduce_mean(gradients, axis=(0, 1))  # (C,)
    return tf.reduce_sum(conv_maps * channel_weights, axis=-1)


class _Reader:
    """One trained network and its temperature, with compiled forward passes (mirror rule included)."""

    def __init__(self, model, temperature: float):
        import tensorflow as tf

        from ml.model import classifier_outputs, combine_views, inference_outputs_model, mirror

        self.model = model
        self.temperature = float(temperature)
        self.image_size = int(model.input_shape[1])
        self.outputs_model = inference_outputs_model(model)  # one view: conv maps, logits, OOD features
        image_spec = tf.TensorSpec((None, self.image_size, self.image_size, 1), tf.float32)
        single_image_spec = tf.TensorSpec((1, self.image_size, self.image_size, 1), tf.float32)

        # Compiled once with a fixed signature: calling Keras eagerly costs more than the network.
        @tf.function(input_signature=[image_spec])
        def forward(images):
            return classifier_outputs(self.outputs_model, images)  # (B, K), (B, D)

        @tf.function(input_signature=[single_image_spec, tf.TensorSpec((), tf.int32)])
        def forward_with_cam(images, class_index):
            with tf.GradientTape() as tape:
                # Both views always run here, so the gradients of both exist; (1, h, w, C) maps each.
                conv_maps, logits, features = self.outputs_model(images, training=False)
                mirror_conv_maps, mirror_logits, _ = self.outputs_model(mirror(images), training=False)
                logits = combine_views(logits, mirror_logits)  # as forward() does
                chosen = tf.where(class_index < 0, tf.argmax(logits[0], output_type=tf.int32), class_index)
                score = logits[0, chosen]
            gradients, mirror_gradients = tape.gradient(score, [conv_maps, mirror_conv_maps])
            # The mirror view's map is flipped back onto the image; it is zero when that view was not used.
            cam = class_activation(conv_maps[0], gradients[0]) + tf.reverse(class_activation(mirror_conv_maps[0], mirror_gradients[0]), axis=[1])
            return logits, features, tf.nn.relu(cam), chosen  # (1, K), (1, D), (h, w), ()

        self.forward = forward
        self.forward_with_cam = forward_with_cam
        # Trace both graphs now, so the first scan does not pay for it.
        warm_up = np.zeros((1, self.image_size, self.image_size, 1), np.float32)
        forward(warm_up)
        forward_with_cam(warm_up, tf.constant(-1, tf.int32))

    @classmethod
    def load(cls, weights_dir: Path) -> tuple["_Reader", dict]:
        """-> the reader saved in `weights_dir` and that folder's calibration record."""
        import keras

        import ml.model  # noqa: F401  registers the custom standardisation layer for loading

        model = keras.models.load_model(weights_dir / config.WEIGHTS_FILE_NAME, compile=False)
        calibration = json.loads((weights_dir / config.CALIBRATION_FILE_NAME).read_text())
        return cls(model, calibration["temperature"]), calibration

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """(K,) logits -> (K,) calibrated probabilities."""
        return softmax(logits[np.newaxis], self.temperature)[0]


def second_reader_finds_tumour(first_probabilities: np.ndarray, second_probabilities: np.ndarray) -> bool:
    """The cascade rule: the second reader overrules a "no tumour" answer when its own most likely class is a tumour.

    Only "no tumour" is ever re-read: a tumour answer is never taken back, so sensitivity can only
    rise and specificity only fall (ml/MODEL_CARD.md measures both).
    """
    return int(np.argmax(first_probabilities)) == NO_TUMOUR_INDEX and int(np.argmax(second_probabilities)) != NO_TUMOUR_INDEX


class Classifier:
    """The first reader with its calibration and OOD statistics, plus the optional second reader; build once per process.

    The first reader answers. When it says "no tumour" about an image it accepts as a brain MRI,
    the second reader (trained with random tissue grey-level maps, against the "bright CSF means no
    tumour" shortcut) reads the slice too; if it finds a tumour, its answer is returned and flagged for review.
    """

    def __init__(self, reader: _Reader, abstain_threshold: float, detector: MahalanobisDetector, model_card: dict, second_reader: _Reader | None = None):
        self.reader = reader
        self.second_reader = second_reader
        self.abstain_threshold = float(abstain_threshold)
        self.detector = detector
        self.model_card = model_card
        self.model_version = model_card.get("version", config.MODEL_VERSION)

    # The first reader's parts, named as callers (model card, bench, tests) use them.
    @property
    def model(self):
        return self.reader.model

    @property
    def temperature(self) -> float:
        return self.reader.temperature

    @property
    def outputs_model(self):
        return self.reader.outputs_model

    @property
    def image_size(self) -> int:
        return self.reader.image_size

    @classmethod
    def load(cls, weights_dir: Path | None = None) -> "Classifier":
        weights_dir = Path(weights_dir) if weights_dir else config.WEIGHTS_DIR
        reader, calibration = _Reader.load(weights_dir)
        second_dir = weights_dir / config.SECOND_READER_DIR_NAME
        second_reader = _Reader.load(second_dir)[0] if (second_dir / config.WEIGHTS_FILE_NAME).exists() else None
        detector = MahalanobisDetector.load(weights_dir / config.OOD_FILE_NAME)
        card_file = weights_dir / config.MODEL_CARD_JSON_NAME
        model_card = json.loads(card_file.read_text()) if card_file.exists() else {"version": config.MODEL_VERSION}
        return cls(reader, calibration["abstain_threshold"], detector, model_card, second_reader)

    # --- the three public calls -----------------------------------------------------------

    def predict(self, image: np.ndarray) -> ClassificationResult:
        """Calibrated probabilities and the abstain decision; timings: preprocess, predict, [second_reader,] total (ms)."""
        started = time.perf_counter()
        prepared = self._prepare(image)
        network_started = time.perf_counter()
        logits, features = self.reader.forward(prepared.model_input)
        timings = {"preprocess": prepared.preprocess_ms, "predict": _milliseconds_since(network_started)}
        result, _ = self._answer(prepared, logits, features, timings, lambda: self.second_reader.forward(prepared.model_input)[0])
        timings["total"] = _milliseconds_since(started)
        return result

    def explain(self, image: np.ndarray, class_name: str | None = None) -> Explanation:
        """Grad-CAM of `class_name` (default: the answer) from the reader whose answer predict() returns."""
        return self._analyse(self._prepare(image), class_name)[1]

    def analyse(self, image: np.ndarray) -> tuple[ClassificationResult, Explanation]:
        """One preprocessing pass, one forward+backward pass per reader used: result and Grad-CAM of the answer.

        Timings (ms): preprocess; predict (forward pass with gradients); second_reader (when it
        read the slice); gradcam (heat map back to the original size + overlay); total.
        """
        started = time.perf_counter()
        result, explanation = self._analyse(self._prepare(image), None)
        result.timings_ms["total"] = _milliseconds_since(started)
        return result, explanation

    # --- internals --------------------------------------------------------------------------

    def _prepare(self, image: np.ndarray) -> _Prepared:
        started = time.perf_counter()
        grey = to_grey(image)  # (H, W); raises ValueError for bad input
        square, geometry = preprocess_grey(grey, self.image_size)
        problem = input_check_reason(image, grey)
        return _Prepared(image, square[np.newaxis, :, :, np.newaxis], geometry, problem, _milliseconds_since(started))

    def _analyse(self, prepared: _Prepared, class_name: str | None) -> tuple[ClassificationResult, Explanation]:
        import tensorflow as tf

        if class_name is not None and class_name not in CLASS_NAMES:
            raise ValueError(f"Unknown class {class_name!r}; expected one of {CLASS_NAMES}.")
        class_index = tf.constant(CLASS_NAMES.index(class_name) if class_name else -1, tf.int32)
        started = time.perf_counter()
        logits, features, cam, chosen = self.reader.forward_with_cam(prepared.model_input, class_index)
        timings = {"preprocess": prepared.preprocess_ms, "predict": _milliseconds_since(started)}
        second_pass = {}

        def read_again():
            second_logits, _, second_pass["cam"], second_pass["chosen"] = self.second_reader.forward_with_cam(prepared.model_input, class_index)
            return second_logits

        result, second_reader_answered = self._answer(prepared, logits, features, timings, read_again)
        if second_reader_answered:
            cam, chosen = second_pass["cam"], second_pass["chosen"]
        started = time.perf_counter()
        heatmap = np.clip(map_to_original(normalise_cam(cam.numpy()), prepared.geometry), 0.0, 1.0)  # (H, W)
        explanation = Explanation(CLASS_NAMES[int(chosen)], heatmap.astype(np.float32), make_overlay(prepared.original, heatmap))
        timings["gradcam"] = _milliseconds_since(started)
        return result, explanation

    def _answer(self, prepared: _Prepared, logits, features, timings: dict, read_again) -> tuple[ClassificationResult, bool]:
        """The first reader's (1, K) logits and (1, D) features -> (result, whether the second reader answered).

        `read_again()` runs the second reader on the same input and returns its (1, K) logits; it is
        called only for slices the first reader calls "no tumour" and accepts as a brain MRI.
        """
        probabilities = self.reader.probabilities(logits.numpy()[0])
        refusal = self._refusal(prepared, features.numpy())
        if self.second_reader is not None and refusal is None and int(np.argmax(probabilities)) == NO_TUMOUR_INDEX:
            started = time.perf_counter()
            second_probabilities = self.second_reader.probabilities(read_again().numpy()[0])
            timings["second_reader"] = _milliseconds_since(started)
            if second_reader_finds_tumour(probabilities, second_probabilities):
                return self._second_reader_result(probabilities, second_probabilities, timings), True
        return self._result(probabilities, refusal, timings), False

    def _refusal(self, prepared: _Prepared, features: np.ndarray) -> tuple[str, str] | None:
        """(plain reason, technical detail) of why the image must not be judged at all (bad input, not a brain MRI), or None."""
        if prepared.input_problem is not None:
            return prepared.input_problem, prepared.input_problem  # the input checks already speak plainly
        distance = float(self.detector.distances(features.astype(np.float64))[0])
        if distance > self.detector.threshold:
            return wording.not_mri_reason(), f"Feature distance {distance:.1f} > threshold {self.detector.threshold:.1f} (outside the training MRIs' distribution)."
        return None

    def _result(self, probabilities: np.ndarray, refusal: tuple[str, str] | None, timings: dict) -> ClassificationResult:
        named = _named(probabilities)
        confidence = float(probabilities.max())
        if refusal is not None:
            return _classification(probabilities, wording.NOT_MRI, *refusal, self.model_version, timings)
        if confidence < self.abstain_threshold:
            detail = f"Calibrated top probability {confidence:.3f} < abstain threshold {self.abstain_threshold:.3f}."
            return _classification(probabilities, wording.UNSURE, wording.unsure_reason(named), detail, self.model_version, timings)
        return _classification(probabilities, None, None, "", self.model_version, timings)

    def _second_reader_result(self, first_probabilities: np.ndarray, second_probabilities: np.ndarray, timings: dict) -> ClassificationResult:
        """The second reader's answer, always flagged: the two readers disagree on tumour vs no tumour."""
        label = CLASS_NAMES[int(np.argmax(second_probabilities))]
        detail = (
            f"First reader: no tumour {first_probabilities[NO_TUMOUR_INDEX]:.3f}; "
            f"second reader (trained with random tissue grey-level maps): {label} {second_probabilities.max():.3f}."
        )
        return _classification(second_probabilities, wording.SECOND_READER, wording.second_reader_reason(label), detail, self.model_version, timings)


def _named(probabilities: np.ndarray) -> dict[str, float]:
    return {name: float(value) for name, value in zip(CLASS_NAMES, probabilities)}


def _classification(
    probabilities: np.ndarray, kind: str | None, reason: str | None, detail: str, model_version: str, timings: dict
) -> ClassificationResult:
    best = int(np.argmax(probabilities))
    return ClassificationResult(
        label=CLASS_NAMES[best],
        probabilities=_named(probabilities),
        confidence=float(probabilities[best]),
        abstained=kind is not None,
        abstain_reason=reason,
        model_version=model_version,
        timings_ms=timings,
        abstain_kind=kind,
        technical_detail=detail,
    )


_classifier: Classifier | None = None
_classifier_lock = threading.Lock()


def get_classifier() -> Classifier:
    """The process-wide classifier, loaded on first use (thread-safe)."""
    global _classifier
    if _classifier is None:
        with _classifier_lock:
            if _classifier is None:
                _classifier = Classifier.load()
    return _classifier
