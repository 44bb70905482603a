"""Checks for the collection shortcut: accuracy by original image size, and results under
perturbations that imitate other scanners and collections (applied to the ORIGINAL image,
before preprocessing, as a different acquisition would be).

Every perturbation takes and returns a uint8 (H, W) grey image.
"""

import cv2
import numpy as np


def _contrast(grey: np.ndarray, factor: float) -> np.ndarray:
    mean = grey.mean()
    return np.clip((grey.astype(np.float32) - mean) * factor + mean, 0, 255).astype(np.uint8)


def _gamma(grey: np.ndarray, gamma: float) -> np.ndarray:
    return (255.0 * (grey / 255.0) ** gamma).astype(np.uint8)


def _noise(grey: np.ndarray, sigma: float) -> np.ndarray:
    rng = np.random.default_rng(int(grey.sum()) % 2**32)  # fixed per image: reproducible
    return np.clip(grey + rng.normal(0, sigma, grey.shape), 0, 255).astype(np.uint8)


def _down_up(grey: np.ndarray, factor: float) -> np.ndarray:
    height, width = grey.shape
    small = cv2.resize(grey, (max(8, int(width * factor)), max(8, int(height * factor))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def _jpeg(grey: np.ndarray, quality: int) -> np.ndarray:
    _, encoded = cv2.imencode(".jpg", grey, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)


def _pad(grey: np.ndarray, fraction: float) -> np.ndarray:
    height, width = grey.shape
    return cv2.copyMakeBorder(grey, int(height * fraction), int(height * fraction), int(width * fraction * 1.6), int(width * fraction * 1.6), cv2.BORDER_CONSTANT, value=0)


def _crop(grey: np.ndarray, fraction: float) -> np.ndarray:
    height, width = grey.shape
    return grey[int(height * fraction) : height - int(height * fraction), int(width * fraction) : width - int(width * fraction)]


def _rotate(grey: np.ndarray, degrees: float) -> np.ndarray:
    height, width = grey.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(grey, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=0)


def _invert_inside_head(grey: np.ndarray) -> np.ndarray:
    """Reverse the grey levels inside the head, keep the background black."""
    head = (grey > 0.08 * np.percentile(grey, 99)).astype(np.uint8)
    head = cv2.morphologyEx(head, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
    return np.where(head > 0, 255 - grey, 0).astype(np.uint8)


PERTURBATIONS = {
    "none": lambda grey: grey,
    "contrast_x0.6": lambda grey: _contrast(grey, 0.6),
    "contrast_x1.5": lambda grey: _contrast(grey, 1.5),
    "gamma_0.6": lambda grey: _gamma(grey, 0.6),
    "gamma_1.7": lambda grey: _gamma(grey, 1.7),
    "brightness_+40": lambda grey: np.clip(grey.astype(np.int16) + 40, 0, 255).astype(np.uint8),
    "blur_sigma2": lambda grey: cv2.GaussianBlur(grey, (0, 0), 2.0),
    "noise_sigma12": lambda grey: _noise(grey, 12.0),
    "downscale_0.3_upscale": lambda grey: _down_up(grey, 0.3),
    "resize_to_256": lambda grey: cv2.resize(grey, (256, 256), interpolation=cv2.INTER_AREA),
    "resize_to_512": lambda grey: cv2.resize(grey, (512, 512), interpolation=cv2.INTER_LINEAR),
    "jpeg_q15": lambda grey: _jpeg(grey, 15),
    "black_margin_+25%": lambda grey: _pad(grey, 0.25),
    "crop_10%_each_side": lambda grey: _crop(grey, 0.10),
    "rotate_12deg": lambda grey: _rotate(grey, 12.0),
    "flip_left_right": lambda grey: np.ascontiguousarray(grey[:, ::-1]),
    "invert_inside_head": _invert_inside_head,
}
# Perturbations that are not a plausible acquisition, and what they probe instead.
PERTURBATION_NOTES = {
    "invert_inside_head": "a stress probe, not a real sequence: CSF becomes bright as on T2-weighted slices, but so does everything else that was dark. "
    "Most tumour slices here are T1 with contrast while the notumor collection holds many T2/FLAIR slices, so a low tumour recall in this row warns "
    "that tumours on other sequences may be called 'no tumour'",
}


def size_bucket(height: int, width: int) -> str:
    """Original image size -> a bucket name; figshare images are mostly exactly 512x512."""
    if (height, width) == (512, 512):
        return "512x512"
    if height != width:
        return "non-square"
    return "square <512" if height < 512 else "square >512"
