"""The interface the portal calls: Classifier.load / predict / explain / analyse, get_classifier().

    result, explanation = get_classifier().analyse(image)   # image: numpy array as decoded
    # explanation is None when the image is refused as not a brain MRI: nothing is drawn over it

One preprocessing function (ml.preprocess), a compiled forward pass of one network, temperature-
scaled probabilities, the safety-first decision rule of ml.decision (input checks, the network's own
"not a brain MRI" output, a Mahalanobis feature distance, and a "no tumour" answer only when the model
is sure and the slice looks familiar), and Grad-CAM from the real gradients at the last convolutional block,
weighted towards the cells where the network's lesion head sees a lesion (lesion_weights).
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
from ml.decision import Thresholds, decide
from ml.ood import MahalanobisDetector, input_check_reason
from ml.preprocess import CropGeometry, map_to_original, preprocess_grey, to_grey

CLASS_NAMES = config.CLASS_NAMES
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


LESION_HEAD_CLASS = "glioma"  # the diagnosis whose masks (LGG FLAIR abnormality) the lesion head learnt


def lesion_weights(lesion_logits, learnt_class=False, strength: float = 1.0):
    """(h, w) lesion-head logits -> (h, w) weights for the Grad-CAM cells, in [0, 1].

    w = (1 - g) + g * p(lesion). For the heat map of LESION_HEAD_CLASS (`learnt_class`) the gate g is
    1: the head's own lesion map confines the heat however faintly it sees the lesion, as it was
    trained to. For the other diagnoses, which it never saw outlined (pituitary tumours barely light
    it), g = min(1, 2 * max p): the heat is confined only once it calls a lesion somewhere (a cell at
    p >= 0.5), and stays plain Grad-CAM where it sees none. `strength` 0 turns the weighting off.
    Measured on LGG validation tumour slices: pointing game 71.0 % (plain) -> 87.4 % (80.9 % with the
    gated rule for glioma too), while the hottest point of 3 % of brain-mri/ pituitary slices moves
    (ml.protocol.localisation; the model card).
    """
    import tensorflow as tf

    lesion = tf.sigmoid(lesion_logits)
    gate = strength * tf.where(learnt_class, 1.0, tf.minimum(1.0, 2.0 * tf.reduce_max(lesion)))
    return (1.0 - gate) + gate * lesion


class Classifier:
    """The trained network with its temperature, thresholds and OOD statistics; build once per process."""

    def __init__(self, model, calibration: dict, detector: MahalanobisDetector, model_card: dict):
        import tensorflow as tf

        from ml.model import classifier_outputs, inference_outputs_model

        self.model = model
        self.temperature = float(calibration["temperature"])
        self.thresholds = Thresholds.from_calibration(calibration)
        self.detector = detector
        self.model_card = model_card
        self.model_version = model_card.get("version", config.MODEL_VERSION)
        self.image_size = int(model.input_shape[1])
        self.outputs_model = inference_outputs_model(model)  # one view: conv maps, logits, OOD features, lesion logits
        image_spec = tf.TensorSpec((None, self.image_size, self.image_size, 1), tf.float32)
        single_image_spec = tf.TensorSpec((1, self.image_size, self.image_size, 1), tf.float32)
        diagnoses = len(CLASS_NAMES)
        lesion_head_index = CLASS_NAMES.index(LESION_HEAD_CLASS)

        # Compiled once with a fixed signature: calling Keras eagerly costs more than the network.
        @tf.function(input_signature=[image_spec])
        def forward(images):
            return classifier_outputs(self.outputs_model, images)  # (B, 5), (B, D)

        @tf.function(input_signature=[single_image_spec, tf.TensorSpec((), tf.int32), tf.TensorSpec((), tf.float32)])
        def forward_with_cam(images, class_index, lesion_strength):
            with tf.GradientTape() as tape:
                conv_maps, logits, features, lesion_logits = self.outputs_model(images, training=False)  # (1, h, w, C) maps
                # Grad-CAM explains a diagnosis (never the "not a brain MRI" output): the most likely one by default.
                chosen = tf.where(class_index < 0, tf.argmax(logits[0, :diagnoses], output_type=tf.int32), class_index)
                score = logits[0, chosen]
            gradients = tape.gradient(score, conv_maps)
            weights = lesion_weights(lesion_logits[0, :, :, 0], tf.equal(chosen, lesion_head_index), lesion_strength)
            cam = tf.nn.relu(class_activation(conv_maps[0], gradients[0])) * weights
            return logits, features, cam, chosen  # (1, 5), (1, D), (h, w), ()

        self.forward = forward
        self.forward_with_cam = forward_with_cam
        # Trace both graphs now, so the first scan does not pay for it.
        warm_up = np.zeros((1, self.image_size, self.image_size, 1), np.float32)
        forward(warm_up)
        forward_with_cam(warm_up, tf.constant(-1, tf.int32), tf.constant(1.0))

    @classmethod
    def load(cls, weights_dir: Path | None = None) -> "Classifier":
        import keras

        import ml.model  # noqa: F401  registers the custom standardisation layer for loading

        weights_dir = Path(weights_dir) if weights_dir else config.WEIGHTS_DIR
        model = keras.models.load_model(weights_dir / config.WEIGHTS_FILE_NAME, compile=False)
        calibration = json.loads((weights_dir / config.CALIBRATION_FILE_NAME).read_text())
        detector = MahalanobisDetector.load(weights_dir / config.OOD_FILE_NAME)
        card_file = weights_dir / config.MODEL_CARD_JSON_NAME
        model_card = json.loads(card_file.read_text()) if card_file.exists() else {"version": config.MODEL_VERSION}
        return cls(model, calibration, detector, model_card)

    # --- the three public calls -----------------------------------------------------------

    def predict(self, image: np.ndarray) -> ClassificationResult:
        """Calibrated probabilities and the decision; timings: preprocess, predict, total (ms)."""
        started = time.perf_counter()
        prepared = self._prepare(image)
        network_started = time.perf_counter()
        logits, features = self.forward(prepared.model_input)
        timings = {"preprocess": prepared.preprocess_ms, "predict": _milliseconds_since(network_started)}
        result = self._answer(prepared, logits.numpy()[0], features.numpy(), timings)
        timings["total"] = _milliseconds_since(started)
        return result

    def explain(self, image: np.ndarray, class_name: str | None = None, lesion_weighted: bool = True) -> Explanation:
        """The heat map of `class_name` (default: the most likely diagnosis); lesion_weighted=False gives
        plain Grad-CAM, which the portal never shows (the model card compares the two)."""
        prepared = self._prepare(image)
        result, cam, chosen = self._forward(prepared, class_name, lesion_weighted)
        return self._draw(prepared, cam, chosen, result.timings_ms)

    def analyse(self, image: np.ndarray) -> tuple[ClassificationResult, Explanation | None]:
        """One preprocessing pass, one forward+backward pass: result and Grad-CAM of the answer, or
        no Grad-CAM (None) for an image refused as not a brain MRI, which carries no finding to explain.

        Timings (ms): preprocess; predict (forward pass with gradients); gradcam (heat map back to
        the original size + overlay; 0 for a refusal); total.
        """
        started = time.perf_counter()
        prepared = self._prepare(image)
        result, cam, chosen = self._forward(prepared, None, True)
        explanation = None if result.refused_as_not_mri else self._draw(prepared, cam, chosen, result.timings_ms)
        result.timings_ms.setdefault("gradcam", 0.0)
        result.timings_ms["total"] = _milliseconds_since(started)
        return result, explanation

    def refusal_scores(self, image: np.ndarray) -> tuple[float, float]:
        """The calibrated not-MRI probability and the feature distance: the two numbers a refusal rests on,
        for measuring other thresholds than the calibrated ones (ml.loko). The portal never calls it."""
        logits, features = self.forward(self._prepare(image).model_input)
        _, not_mri_probability, distance = self._scores(logits.numpy()[0], features.numpy())
        return not_mri_probability, distance

    # --- internals --------------------------------------------------------------------------

    def _prepare(self, image: np.ndarray) -> _Prepared:
        started = time.perf_counter()
        grey = to_grey(image)  # (H, W); raises ValueError for bad input
        square, geometry = preprocess_grey(grey, self.image_size)
        problem = input_check_reason(image, grey)
        return _Prepared(image, square[np.newaxis, :, :, np.newaxis], geometry, problem, _milliseconds_since(started))

    def _forward(self, prepared: _Prepared, class_name: str | None, lesion_weighted: bool):
        """The forward+backward pass: (the result, the (h, w) class activation map, the explained class index)."""
        import tensorflow as tf

        if class_name is not None and class_name not in CLASS_NAMES:
            raise ValueError(f"Unknown class {class_name!r}; expected one of {CLASS_NAMES}.")
        class_index = tf.constant(CLASS_NAMES.index(class_name) if class_name else -1, tf.int32)
        started = time.perf_counter()
        logits, features, cam, chosen = self.forward_with_cam(prepared.model_input, class_index, tf.constant(1.0 if lesion_weighted else 0.0))
        timings = {"preprocess": prepared.preprocess_ms, "predict": _milliseconds_since(started)}
        return self._answer(prepared, logits.numpy()[0], features.numpy(), timings), cam.numpy(), int(chosen)

    def _draw(self, prepared: _Prepared, cam: np.ndarray, chosen: int, timings: dict) -> Explanation:
        """The activation map back at the original image's size, and its overlay."""
        started = time.perf_counter()
        heatmap = np.clip(map_to_original(normalise_cam(cam), prepared.geometry), 0.0, 1.0)  # (H, W)
        explanation = Explanation(CLASS_NAMES[chosen], heatmap.astype(np.float32), make_overlay(prepared.original, heatmap))
        timings["gradcam"] = _milliseconds_since(started)
        return explanation

    def _answer(self, prepared: _Prepared, logits: np.ndarray, features: np.ndarray, timings: dict) -> ClassificationResult:
        """(5,) logits and (1, D) OOD features -> the result, through the one decision rule."""
        probabilities, not_mri_probability, distance = self._scores(logits, features)
        decision = decide(probabilities, not_mri_probability, distance, self.thresholds, prepared.input_problem)
        best = int(np.argmax(probabilities))
        return ClassificationResult(
            label=CLASS_NAMES[best],
            probabilities={name: float(value) for name, value in zip(CLASS_NAMES, probabilities)},
            confidence=float(probabilities[best]),
            abstained=decision.kind is not None,
            abstain_reason=decision.reason,
            model_version=self.model_version,
            timings_ms=timings,
            abstain_kind=decision.kind,
            technical_detail=decision.detail,
        )

    def _scores(self, logits: np.ndarray, features: np.ndarray) -> tuple[np.ndarray, float, float]:
        """(5,) logits and (1, D) features -> (4,) calibrated diagnosis probabilities, not-MRI probability, feature distance."""
        probabilities, not_mri_probability = split_probabilities(logits[np.newaxis], self.temperature)
        return probabilities[0], float(not_mri_probability[0]), float(self.detector.distances(features.astype(np.float64))[0])


def split_probabilities(logits: np.ndarray, temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """(N, 5) logits -> ((N, 4) calibrated diagnosis probabilities, (N,) calibrated "not a brain MRI" probabilities).

    The diagnosis probabilities are a softmax over the four diagnoses alone: whether the slice is an
    MRI at all is the fifth output's question, not a share taken from the diagnoses.
    """
    diagnoses = len(CLASS_NAMES)
    return softmax(logits[:, :diagnoses], temperature), softmax(logits, temperature)[:, config.NOT_MRI_INDEX]


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
