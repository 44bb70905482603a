"""Refusing images the model should not judge.

Two layers: cheap input checks on the raw array (tiny, extreme aspect ratio, near-constant,
strongly coloured), then a Mahalanobis distance in the network's penultimate feature space.
The Gaussian (class means, one shared covariance) is fitted on clean and augmented training
MRIs; the threshold is a high percentile of distances of clean + augmented MRIs, so scans that
merely look different (contrast, noise, resolution, framing) stay inside it.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.covariance import LedoitWolf

from ml import config
from ml.preprocess import sampled_percentiles

# The input checks compare coarse statistics with generous limits: a grid of about this many
# pixels estimates them well enough, at a quarter of the cost of the preprocessing sample.
_CHECK_SAMPLE_PIXELS = 10_000


def _scaled_to_unit(image: np.ndarray) -> np.ndarray:
    """Colour array -> float32 roughly in [0, 1], using the dtype's range when it has one."""
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    if image.dtype == np.uint16:
        return image.astype(np.float32) / 65535.0
    pixels = image.astype(np.float32)
    high = float(np.abs(pixels).max())
    return pixels / high if high > 0 else pixels


def saturated_fraction(image: np.ndarray) -> float:
    """(H, W, 3|4) -> share of pixels whose HSV saturation exceeds SATURATION_LEVEL (dark pixels ignored).

    Estimated on a regular grid of about _CHECK_SAMPLE_PIXELS pixels.
    """
    step = max(1, int(np.sqrt(image.shape[0] * image.shape[1] / _CHECK_SAMPLE_PIXELS)))
    rgb = _scaled_to_unit(image[::step, ::step, :3])  # (h, w, 3)
    # Channel-wise maximum/minimum: numpy reduces a length-3 last axis very slowly.
    red, green, blue = rgb[:, :, 0], rgb[:, :, 1], rgb[:, :, 2]
    value = np.maximum(np.maximum(red, green), blue)
    saturation = (value - np.minimum(np.minimum(red, green), blue)) / np.maximum(value, 1e-6)
    return float(((saturation > config.SATURATION_LEVEL) & (value > 0.15)).mean())


def input_check_reason(image: np.ndarray, grey: np.ndarray) -> str | None:
    """Raw image and its (H, W) grey version -> a sentence saying why it cannot be judged, or None."""
    height, width = grey.shape
    if min(height, width) < config.MIN_IMAGE_SIDE:
        return f"The image is too small to judge ({width}x{height} pixels; at least {config.MIN_IMAGE_SIDE} needed)."
    aspect_ratio = max(height, width) / min(height, width)
    if aspect_ratio > config.MAX_ASPECT_RATIO:
        return f"The image does not look like a brain MRI slice (aspect ratio {aspect_ratio:.1f}:1)."
    low, high = sampled_percentiles(grey, [0.5, 99.5], _CHECK_SAMPLE_PIXELS)
    # uint8 has a known full scale; other types are judged against their own magnitude.
    scale = 255.0 if image.dtype == np.uint8 else max(abs(float(low)), abs(float(high)), 1e-12)
    if high - low < config.MIN_INTENSITY_RANGE * scale:
        return "The image is blank or nearly uniform: there is no anatomy to judge."
    if image.ndim == 3 and image.shape[2] >= 3:
        fraction = saturated_fraction(image)
        if fraction > config.SATURATED_PIXEL_FRACTION:
            return f"The image is in colour ({fraction:.0%} strongly coloured pixels); a brain MRI slice is greyscale."
    return None


@dataclass(frozen=True)
class MahalanobisDetector:
    """Gaussian (class means, one shared covariance) over pooled mid-level activations."""

    class_means: np.ndarray  # (K, D)
    precision: np.ndarray  # (D, D) inverse of the shared covariance
    threshold: float  # distances above this are out of distribution

    def distances(self, features: np.ndarray) -> np.ndarray:
        """(N, D) features -> (N,) smallest Mahalanobis distance to any class mean."""
        differences = features[:, np.newaxis, :] - self.class_means[np.newaxis]  # (N, K, D)
        squared = np.sum((differences @ self.precision) * differences, axis=-1)  # (N, K); a BLAS matmul, not einsum's loop
        return np.sqrt(np.maximum(squared.min(axis=1), 0.0))

    def save(self, path: Path) -> None:
        np.savez(path, class_means=self.class_means, precision=self.precision, threshold=np.array(self.threshold))

    @classmethod
    def load(cls, path: Path) -> "MahalanobisDetector":
        with np.load(path) as arrays:
            return cls(arrays["class_means"], arrays["precision"], float(arrays["threshold"]))

    @classmethod
    def fit(cls, features: np.ndarray, labels: np.ndarray, reference: np.ndarray, class_count: int, percentile: float) -> "MahalanobisDetector":
        """Gaussian from `features` (N, D); threshold = `percentile` of distances of `reference` MRIs."""
        means = np.stack([features[labels == k].mean(axis=0) for k in range(class_count)])
        # Shrinkage keeps the inverse stable with a few hundred feature dimensions.
        covariance = LedoitWolf().fit(features - means[labels]).covariance_
        unfitted = cls(means, np.linalg.inv(covariance), np.inf)
        return cls(means, unfitted.precision, float(np.percentile(unfitted.distances(reference), percentile)))
