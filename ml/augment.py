"""Training-time augmentation (TensorFlow ops, vectorised over the batch).

Each transformation imitates a way an image from another scanner or collection can differ:
contrast/gamma/brightness, blur, noise, lower acquisition resolution, JPEG compression,
different margins (zoom in/out), head position (rotation, shift) and orientation (flips).
A model trained on these cannot lean on collection-specific texture or framing.

The second reader (ml/weights/second_reader/) is also trained with a random tissue-contrast
map, so that which tissue is bright (the MRI sequence) stops telling the classes apart.
"""

import functools
import math

import tensorflow as tf

JPEG_PROBABILITY = 0.3
BLUR_PROBABILITY = 0.25
NOISE_PROBABILITY = 0.3
RESOLUTION_PROBABILITY = 0.3
MAX_ROTATION_DEGREES = 15.0
MAX_SHIFT_FRACTION = 0.08
ZOOM_RANGE = (0.8, 1.3)  # < 1 adds a black margin, > 1 crops into the head
# Width/height ratio change: exports that squash non-square slices into a square (or the
# reverse) must not look like a different collection.
ASPECT_RANGE = (0.85, 1.18)


def random_jpeg(image: tf.Tensor) -> tf.Tensor:
    """(S, S) uint8 -> (S, S, 1) float32 in [0, 1], JPEG re-encoded at a random quality sometimes."""
    image = image[:, :, tf.newaxis]
    compressed = tf.image.adjust_jpeg_quality(image, tf.random.uniform((), 20, 95, dtype=tf.int32))
    image = tf.cond(tf.random.uniform(()) < JPEG_PROBABILITY, lambda: compressed, lambda: image)
    image = tf.ensure_shape(image, (None, None, 1))
    return tf.cast(image, tf.float32) / 255.0


def _per_image_mask(batch_size: tf.Tensor, probability: float) -> tf.Tensor:
    """-> (B, 1, 1, 1) float32, 1 for images that get the transformation."""
    return tf.cast(tf.random.uniform((batch_size, 1, 1, 1)) < probability, tf.float32)


def random_affine(images: tf.Tensor) -> tf.Tensor:
    """(B, S, S, 1) -> same; per-image rotation, shift, zoom, aspect change and flips; black fill."""
    batch_size = tf.shape(images)[0]
    size = tf.cast(tf.shape(images)[1], tf.float32)
    angle = tf.random.uniform((batch_size,), -1.0, 1.0) * MAX_ROTATION_DEGREES * math.pi / 180.0
    zoom = tf.exp(tf.random.uniform((batch_size,), math.log(ZOOM_RANGE[0]), math.log(ZOOM_RANGE[1])))
    aspect = tf.sqrt(tf.exp(tf.random.uniform((batch_size,), math.log(ASPECT_RANGE[0]), math.log(ASPECT_RANGE[1]))))
    shift_x = tf.random.uniform((batch_size,), -1.0, 1.0) * MAX_SHIFT_FRACTION * size
    shift_y = tf.random.uniform((batch_size,), -1.0, 1.0) * MAX_SHIFT_FRACTION * size
    flip_x = tf.where(tf.random.uniform((batch_size,)) < 0.5, -1.0, 1.0)
    flip_y = tf.where(tf.random.uniform((batch_size,)) < 0.1, -1.0, 1.0)
    # The transform maps each OUTPUT pixel to the INPUT pixel it samples:
    # input = M (output - centre - shift) + centre, with M = rotation(-angle) * diag(flip / zoom per axis).
    cos, sin = tf.cos(angle), tf.sin(angle)
    scale_x, scale_y = flip_x / (zoom * aspect), flip_y * aspect / zoom
    m00, m01 = cos * scale_x, sin * scale_y
    m10, m11 = -sin * scale_x, cos * scale_y
    centre = (size - 1.0) / 2.0
    offset_x = centre - m00 * (centre + shift_x) - m01 * (centre + shift_y)
    offset_y = centre - m10 * (centre + shift_x) - m11 * (centre + shift_y)
    zeros = tf.zeros_like(angle)
    transforms = tf.stack([m00, m01, offset_x, m10, m11, offset_y, zeros, zeros], axis=1)  # (B, 8)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=tf.shape(images)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )


def _gaussian_kernel(sigma: tf.Tensor, radius: int = 3) -> tf.Tensor:
    """-> (2r+1, 2r+1, 1, 1) normalised Gaussian kernel."""
    coordinates = tf.range(-radius, radius + 1, dtype=tf.float32)
    profile = tf.exp(-(coordinates**2) / (2.0 * sigma**2))
    kernel = tf.tensordot(profile, profile, axes=0)
    return (kernel / tf.reduce_sum(kernel))[:, :, tf.newaxis, tf.newaxis]


def random_blur(images: tf.Tensor) -> tf.Tensor:
    """(B, S, S, 1) -> same; Gaussian blur (sigma drawn per batch) on a random subset."""
    sigma = tf.random.uniform((), 0.5, 1.8)
    blurred = tf.nn.conv2d(images, _gaussian_kernel(sigma), strides=1, padding="SAME")
    mask = _per_image_mask(tf.shape(images)[0], BLUR_PROBABILITY)
    return mask * blurred + (1.0 - mask) * images


def random_resolution(images: tf.Tensor) -> tf.Tensor:
    """(B, S, S, 1) -> same; downscale to 25-75 % and back up on a random subset."""
    size = tf.shape(images)[1]
    low = tf.cast(tf.cast(size, tf.float32) * tf.random.uniform((), 0.25, 0.75), tf.int32)
    degraded = tf.image.resize(tf.image.resize(images, (low, low), antialias=True), (size, size))
    mask = _per_image_mask(tf.shape(images)[0], RESOLUTION_PROBABILITY)
    return mask * degraded + (1.0 - mask) * images


def random_intensity(images: tf.Tensor) -> tf.Tensor:
    """(B, S, S, 1) in [0, 1] -> same; per-image gamma, contrast, brightness and noise."""
    batch_size = tf.shape(images)[0]
    gamma = tf.exp(tf.random.uniform((batch_size, 1, 1, 1), math.log(0.5), math.log(2.0)))
    images = tf.pow(tf.clip_by_value(images, 1e-6, 1.0), gamma)
    contrast = tf.random.uniform((batch_size, 1, 1, 1), 0.7, 1.4)
    brightness = tf.random.uniform((batch_size, 1, 1, 1), -0.15, 0.15)
    images = images * contrast + brightness
    noise_level = tf.random.uniform((batch_size, 1, 1, 1), 0.0, 0.06) * _per_image_mask(batch_size, NOISE_PROBABILITY)
    images = images + noise_level * tf.random.normal(tf.shape(images))
    return tf.clip_by_value(images, 0.0, 1.0)


def random_tissue_contrast(images: tf.Tensor, probability: float, segments: int = 5) -> tf.Tensor:
    """(B, S, S, 1) in [0, 1] -> same; on a `probability` fraction of images, a random piecewise-linear
    grey-level map (black stays black, the other knots are drawn from [0.1, 1]).

    Why: in this data nearly every tumour slice is T1-weighted while the no-tumour collection holds
    many T2/FLAIR slices, so "CSF is bright" predicts "no tumour". Remapping tissue grey levels,
    sometimes inverting them, takes that cue away.
    """
    batch_size = tf.shape(images)[0]
    knots = tf.concat([tf.zeros((batch_size, 1)), tf.random.uniform((batch_size, segments), 0.1, 1.0)], axis=1)  # (B, segments + 1)
    position = tf.clip_by_value(images, 0.0, 1.0) * segments
    lower = tf.minimum(tf.floor(position), segments - 1.0)
    fraction = position - lower
    index = tf.cast(tf.reshape(lower, (batch_size, -1)), tf.int32)  # (B, S*S)
    low = tf.reshape(tf.gather(knots, index, batch_dims=1), tf.shape(images))
    high = tf.reshape(tf.gather(knots, index + 1, batch_dims=1), tf.shape(images))
    mask = _per_image_mask(batch_size, probability)
    return mask * (low + (high - low) * fraction) + (1.0 - mask) * images


def augment_batch(images: tf.Tensor, labels: tf.Tensor, tissue_contrast_probability: float = 0.0) -> tuple[tf.Tensor, tf.Tensor]:
    """(B, S, S, 1) float32 in [0, 1] -> augmented batch, labels unchanged."""
    images = random_affine(images)
    images = random_resolution(images)
    images = random_blur(images)
    if tissue_contrast_probability > 0:  # not drawn at all otherwise: the first reader's random stream is unchanged
        images = random_tissue_contrast(images, tissue_contrast_probability)
    images = random_intensity(images)
    return images, labels


def batch_augmenter(tissue_contrast_probability: float = 0.0):
    """The (images, labels) -> (images, labels) function for tf.data.Dataset.map."""
    return functools.partial(augment_batch, tissue_contrast_probability=tissue_contrast_probability)


def augment_batch_with_masks(images: tf.Tensor, masks: tf.Tensor, tissue_contrast_probability: float) -> tuple[tf.Tensor, tf.Tensor]:
    """(B, S, S, 1) images and (B, S, S, 1) lesion masks in [0, 1] -> both augmented.

    The geometry (rotation, shift, zoom, aspect, flips) moves image and mask together; everything
    else (resolution, blur, tissue contrast, intensity, noise) touches the image only.
    """
    moved = random_affine(tf.concat([images, masks], axis=-1))  # (B, S, S, 2)
    images, masks = moved[..., :1], moved[..., 1:]
    images = random_resolution(images)
    images = random_blur(images)
    if tissue_contrast_probability > 0:
        images = random_tissue_contrast(images, tissue_contrast_probability)
    return random_intensity(images), masks


def augmented(images, seed: int):
    """uint8 (N, S, S) numpy -> float32 (N, S, S) numpy: one pass of the training augmentation (for
    batch-norm re-estimation and the OOD fit, which must see what training saw)."""
    import numpy as np

    tf.random.set_seed(seed)
    pipeline = (
        tf.data.Dataset.from_tensor_slices((images, np.zeros(len(images), np.int32)))
        .map(lambda image, label: (random_jpeg(image), label))
        .batch(128)
        .map(augment_batch)
    )
    return np.concatenate([batch.numpy()[..., 0] for batch, _ in pipeline])
