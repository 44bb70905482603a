"""The one preprocessing function shared by training and inference.

Any 2-D slice (8/16-bit grey, RGB, RGBA, float; HxW or HxWxC) becomes a float32
(IMAGE_SIZE, IMAGE_SIZE) picture in [0, 1]: grey, black margin cropped, padded to a square,
resized, and rescaled by its own intensity percentiles. Cropping and per-image scaling remove
the cues that tell the source collections apart (borders, aspect ratio, brightness), so the
network has to look at the anatomy instead.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from ml import config

# ITU-R BT.601 luma weights, the same conversion Pillow uses for "L".
_LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)
# Percentiles are estimated on a strided sample of at most about this many pixels: exact
# percentiles of a 1920x1920 image would cost more than the whole network.
_PERCENTILE_SAMPLE_PIXELS = 40_000


def sampled_percentiles(grey: np.ndarray, percentiles: list[float], sample_pixels: int = _PERCENTILE_SAMPLE_PIXELS) -> np.ndarray:
    """(H, W) -> percentiles estimated on a regular grid of about `sample_pixels` pixels (exact for small images)."""
    step = max(1, int(np.sqrt(grey.size / sample_pixels)))
    return np.percentile(grey[::step, ::step], percentiles)


@dataclass(frozen=True)
class CropGeometry:
    """Where the model's square input came from in the original image (for Grad-CAM)."""

    original_height: int
    original_width: int
    top: int  # crop box in original pixel coordinates
    left: int
    height: int
    width: int
    pad_top: int  # offsets of the crop inside the zero-padded square of side `square_side`
    pad_left: int
    square_side: int


def to_grey(image: np.ndarray) -> np.ndarray:
    """(H, W) | (H, W, 1|3|4), any real dtype -> float32 (H, W), values in the input's own units.

    Raises ValueError for anything that is not a finite, non-empty 2-D picture.
    """
    if not isinstance(image, np.ndarray):
        raise ValueError(f"Expected a numpy array, got {type(image).__name__}.")
    if image.ndim not in (2, 3):
        raise ValueError(f"Expected an (H, W) or (H, W, C) image, got {image.ndim} dimensions.")
    if image.size == 0 or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError("The image is empty.")
    if image.dtype == bool or not (np.issubdtype(image.dtype, np.integer) or np.issubdtype(image.dtype, np.floating)):
        raise ValueError(f"Unsupported pixel type {image.dtype}.")
    if np.issubdtype(image.dtype, np.floating) and not np.isfinite(image).all():
        raise ValueError("The image contains NaN or infinite values.")
    if image.ndim == 2:
        return image.astype(np.float32)
    channels = image.shape[2]
    if channels == 1:
        return image[:, :, 0].astype(np.float32)
    if channels == 3 and image.dtype == np.uint8:
        # OpenCV's fixed-point version of the same weights: a tenth of numpy's time on a
        # 512x512 scan, and exact for the common case of grey stored as RGB.
        return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY).astype(np.float32)
    pixels = image.astype(np.float32)
    if channels == 3:
        return pixels @ _LUMA_WEIGHTS
    if channels == 4:
        # Transparent areas become black, like the background of a scan.
        alpha = pixels[:, :, 3]
        alpha_scale = alpha / 255.0 if image.dtype == np.uint8 else alpha / 65535.0 if image.dtype == np.uint16 else alpha
        return (pixels[:, :, :3] @ _LUMA_WEIGHTS) * np.clip(alpha_scale, 0.0, 1.0)
    raise ValueError(f"Expected 1, 3 or 4 channels, got {channels}.")


def find_head_box(grey: np.ndarray) -> tuple[int, int, int, int]:
    """(H, W) grey -> (top, left, height, width) of the bright content, ignoring the black margin.

    A row/column counts only if a few of its pixels are bright, so burnt-in text or speckle
    noise in the margin does not stretch the box. Falls back to the whole image.
    """
    height, width = grey.shape
    floor = float(grey.min())
    ceiling = float(sampled_percentiles(grey, [99])[0])
    if ceiling - floor <= 1e-6:
        return 0, 0, height, width
    bright = grey > floor + config.MARGIN_THRESHOLD_FRACTION * (ceiling - floor)  # (H, W) bool
    rows = np.flatnonzero(bright.sum(axis=1) > max(2, 0.01 * width))
    columns = np.flatnonzero(bright.sum(axis=0) > max(2, 0.01 * height))
    if rows.size == 0 or columns.size == 0:
        return 0, 0, height, width
    # A small margin keeps the skull outline intact.
    margin = int(round(0.02 * max(height, width)))
    top = max(0, int(rows[0]) - margin)
    bottom = min(height, int(rows[-1]) + 1 + margin)
    left = max(0, int(columns[0]) - margin)
    right = min(width, int(columns[-1]) + 1 + margin)
    return top, left, bottom - top, right - left


def normalise_intensity(grey: np.ndarray) -> np.ndarray:
    """(H, W) float -> (H, W) float32 in [0, 1], scaled between the image's own percentiles."""
    low, high = (float(value) for value in sampled_percentiles(grey, [config.NORMALISE_LOW_PERCENTILE, config.NORMALISE_HIGH_PERCENTILE]))
    if high - low <= 1e-6:
        return np.zeros_like(grey, dtype=np.float32)
    # float32 scalars keep the arithmetic in float32: numpy's float64 percentiles would promote
    # the whole picture to float64 (five times slower, same result to 1e-7).
    scaled = (grey.astype(np.float32, copy=False) - np.float32(low)) * np.float32(1.0 / (high - low))
    return np.clip(scaled, 0.0, 1.0, out=scaled)


def preprocess_with_geometry(image: np.ndarray, size: int = config.IMAGE_SIZE) -> tuple[np.ndarray, CropGeometry]:
    """Any slice -> ((size, size) float32 in [0, 1], the crop geometry used)."""
    return preprocess_grey(to_grey(image), size)


def preprocess_grey(grey: np.ndarray, size: int = config.IMAGE_SIZE) -> tuple[np.ndarray, CropGeometry]:
    """(H, W) float32 grey from to_grey -> ((size, size) float32 in [0, 1], the crop geometry used)."""
    top, left, height, width = find_head_box(grey)
    head = normalise_intensity(grey[top : top + height, left : left + width])  # (h, w)
    side = max(height, width)
    pad_top = (side - height) // 2
    pad_left = (side - width) // 2
    square = np.zeros((side, side), dtype=np.float32)
    square[pad_top : pad_top + height, pad_left : pad_left + width] = head
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    resized = cv2.resize(square, (size, size), interpolation=interpolation)  # (size, size)
    geometry = CropGeometry(
        original_height=grey.shape[0],
        original_width=grey.shape[1],
        top=top,
        left=left,
        height=height,
        width=width,
        pad_top=pad_top,
        pad_left=pad_left,
        square_side=side,
    )
    return np.clip(resized, 0.0, 1.0).astype(np.float32), geometry


def preprocess(image: np.ndarray, size: int = config.IMAGE_SIZE) -> np.ndarray:
    """Any slice -> (size, size) float32 in [0, 1]. See module docstring."""
    return preprocess_grey(to_grey(image), size)[0]


def map_to_original(square_map: np.ndarray, geometry: CropGeometry) -> np.ndarray:
    """(s, s) map over the model input -> float32 (H, W) map over the original image.

    Undoes resize and padding, then places the map into the crop box; zeros outside it.
    """
    side = geometry.square_side
    square = cv2.resize(square_map.astype(np.float32), (side, side), interpolation=cv2.INTER_LINEAR)
    crop = square[geometry.pad_top : geometry.pad_top + geometry.height, geometry.pad_left : geometry.pad_left + geometry.width]
    full = np.zeros((geometry.original_height, geometry.original_width), dtype=np.float32)
    full[geometry.top : geometry.top + geometry.height, geometry.left : geometry.left + geometry.width] = crop
    return full


def apply_geometry(mask: np.ndarray, geometry: CropGeometry, size: int = config.IMAGE_SIZE) -> np.ndarray:
    """(H, W) mask over the original image -> float32 (size, size) over the model input, cut, padded and
    resized exactly as preprocess_grey did to the image (the inverse of map_to_original)."""
    crop = mask[geometry.top : geometry.top + geometry.height, geometry.left : geometry.left + geometry.width].astype(np.float32)
    square = np.zeros((geometry.square_side, geometry.square_side), dtype=np.float32)
    square[geometry.pad_top : geometry.pad_top + geometry.height, geometry.pad_left : geometry.pad_left + geometry.width] = crop
    interpolation = cv2.INTER_AREA if geometry.square_side > size else cv2.INTER_LINEAR
    return np.clip(cv2.resize(square, (size, size), interpolation=interpolation), 0.0, 1.0)
