"""Deterministic sets of images that are NOT brain MRIs, made offline, for measuring refusal.

Photos bundled inside scikit-image and scikit-learn (no download), their grey/cropped/rotated/
downscaled variants, rendered text documents, noise, blanks, gradients, shapes, synthetic
chest-X-ray-like pictures, tiny crops and extreme strips. The Shepp-Logan phantom bundled
with scikit-image is left out on purpose: it is drawn to look like a head slice.

`held_out_non_mri_images` holds kinds that were never looked at while the OOD method, its layers
and threshold were chosen (grey face photos, handwritten digits, binary blobs, rendered charts):
its refusal rate is the honest one for pictures nobody anticipated.
"""

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

SKIMAGE_PHOTOS = (
    "astronaut.png", "brick.png", "camera.png", "cell.png", "chelsea.png", "chessboard_GRAY.png",
    "chessboard_RGB.png", "clock_motion.png", "coffee.png", "coins.png", "color.png", "grass.png",
    "gravel.png", "horse.png", "hubble_deep_field.jpg", "ihc.png", "logo.png", "microaneurysms.png",
    "moon.png", "motorcycle_left.png", "motorcycle_right.png", "page.png", "retina.jpg", "rocket.jpg", "text.png",
)  # fmt: skip

DOCUMENT_LINES = (
    "Patient discharge summary", "Department of Radiology", "Findings: no acute abnormality.",
    "Invoice #20391 - total due 412.50 EUR", "Lorem ipsum dolor sit amet, consectetur", "Page 3 of 12",
)  # fmt: skip


def bundled_photos() -> list[tuple[str, np.ndarray]]:
    """The sample photos shipped inside scikit-image and scikit-learn, as decoded arrays."""
    import skimage
    from sklearn.datasets import load_sample_images

    data_dir = Path(skimage.__file__).parent / "data"
    photos = []
    for name in SKIMAGE_PHOTOS:
        path = data_dir / name
        if path.exists():
            with Image.open(path) as picture:
                photos.append((f"skimage_{path.stem}", np.asarray(picture.convert("RGBA" if picture.mode in ("RGBA", "LA", "P") else picture.mode))))
    sklearn_samples = load_sample_images()
    for file_name, image in zip(sklearn_samples.filenames, sklearn_samples.images):
        photos.append((f"sklearn_{Path(file_name).stem}", image))
    return photos


def photo_variants(name: str, image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Grey version, central crop, 90-degree rotation, and a 30 % downscale of one photo."""
    height, width = image.shape[:2]
    grey = np.asarray(Image.fromarray(image[:, :, :3] if image.ndim == 3 else image).convert("L"))
    small = cv2.resize(image, (max(48, int(width * 0.3)), max(48, int(height * 0.3))), interpolation=cv2.INTER_AREA)
    return [
        (f"{name}_grey", grey),
        (f"{name}_crop", image[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4]),
        (f"{name}_rot90", np.ascontiguousarray(np.rot90(image))),
        (f"{name}_small", small),
    ]


def text_documents() -> list[tuple[str, np.ndarray]]:
    documents = []
    for index, font_size in enumerate((12, 16, 20, 28, 36, 48)):
        canvas = Image.new("L", (640, 800), 255 if index % 2 == 0 else 235)
        draw = ImageDraw.Draw(canvas)
        font = ImageFont.load_default(size=font_size)
        y = 20
        while y < 780:
            draw.text((20, y), DOCUMENT_LINES[(y // font_size) % len(DOCUMENT_LINES)], fill=0, font=font)
            y += int(font_size * 1.5)
        documents.append((f"document_{font_size}pt", np.asarray(canvas)))
    inverted = 255 - documents[2][1]
    documents.append(("document_inverted", inverted))
    return documents


def noise_and_blanks(rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    salt_pepper = (rng.random((256, 256)) < 0.5).astype(np.uint8) * 255
    return [
        ("noise_uniform", rng.integers(0, 256, (256, 256), dtype=np.uint8)),
        ("noise_gaussian", np.clip(rng.normal(128, 40, (300, 300)), 0, 255).astype(np.uint8)),
        ("noise_salt_pepper", salt_pepper),
        ("noise_colour", rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)),
        ("noise_uint16", rng.integers(0, 65536, (256, 256), dtype=np.uint16)),
        ("noise_float", rng.random((256, 256)).astype(np.float32)),
        ("noise_smooth", cv2.GaussianBlur(rng.random((256, 256)).astype(np.float32), (0, 0), 8)),
        ("blank_black", np.zeros((256, 256), np.uint8)),
        ("blank_white", np.full((256, 256), 255, np.uint8)),
        ("blank_grey", np.full((256, 256, 3), 128, np.uint8)),
        ("blank_uint16", np.zeros((512, 512), np.uint16)),
        ("blank_float", np.full((128, 128), 0.3, np.float32)),
        ("blank_nearly", (128 + rng.integers(-1, 2, (256, 256))).astype(np.uint8)),
    ]


def gradients_and_shapes(rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    ramp = np.linspace(0, 255, 256, dtype=np.float32)
    yy, xx = np.mgrid[0:256, 0:256].astype(np.float32)
    radial = np.clip(255 - np.hypot(yy - 128, xx - 128) * 2, 0, 255)
    colour_ramp = np.stack([np.tile(ramp, (256, 1)), np.tile(ramp[:, None], (1, 256)), np.full((256, 256), 128.0)], axis=2)
    images = [
        ("gradient_horizontal", np.tile(ramp, (256, 1)).astype(np.uint8)),
        ("gradient_vertical", np.tile(ramp[:, None], (1, 256)).astype(np.uint8)),
        ("gradient_radial", radial.astype(np.uint8)),
        ("gradient_colour", colour_ramp.astype(np.uint8)),
    ]
    for index in range(8):
        canvas = Image.new("RGB" if index % 2 else "L", (320, 320), 0)
        draw = ImageDraw.Draw(canvas)
        for _ in range(int(rng.integers(3, 9))):
            x0, y0 = (int(value) for value in rng.integers(0, 260, 2))
            x1, y1 = x0 + int(rng.integers(20, 120)), y0 + int(rng.integers(20, 120))
            fill = tuple(int(value) for value in rng.integers(60, 256, 3)) if index % 2 else int(rng.integers(60, 256))
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=fill)
        images.append((f"shapes_{index}", np.asarray(canvas)))
    return images


def synthetic_chest_xray(rng: np.random.Generator, size: int = 512) -> np.ndarray:
    """A frontal-chest-radiograph-like picture: bright torso and spine, dark lungs, rib arcs, heart."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    torso = ((xx - 0.5) / 0.46) ** 2 + ((yy - 0.62) / 0.6) ** 2 < 1.0
    picture = np.where(torso, 0.55, 0.08).astype(np.float32)
    for centre_x in (0.32, 0.68):
        lung = ((xx - centre_x) / 0.15) ** 2 + ((yy - 0.5) / 0.3) ** 2 < 1.0
        picture[lung] = 0.18
    picture[np.abs(xx - 0.5) < 0.035] = 0.85  # spine
    heart = ((xx - 0.56) / 0.13) ** 2 + ((yy - 0.62) / 0.12) ** 2 < 1.0
    picture[heart] = 0.7
    for rib in range(9):
        curve = 0.25 + rib * 0.055 + 0.05 * np.sin((xx - 0.5) * np.pi) ** 2
        picture[(np.abs(yy - curve) < 0.008) & (np.abs(xx - 0.5) > 0.04) & torso] += 0.25
    picture = cv2.GaussianBlur(picture, (0, 0), 3 + rng.random() * 3)
    picture += rng.normal(0, 0.02, picture.shape).astype(np.float32)
    return (np.clip(picture, 0, 1) * 255).astype(np.uint8)


def non_mri_images(seed: int = 0) -> list[tuple[str, np.ndarray]]:
    """Every non-MRI test image as (name, array) in a fixed order."""
    rng = np.random.default_rng(seed)
    images = []
    for name, photo in bundled_photos():
        images.append((name, photo))
        images.extend(photo_variants(name, photo))
    images.extend(text_documents())
    images.extend(noise_and_blanks(rng))
    images.extend(gradients_and_shapes(rng))
    images.extend((f"chest_xray_{index}", synthetic_chest_xray(rng)) for index in range(4))
    camera = dict(bundled_photos())["skimage_camera"]
    images.append(("tiny_crop", camera[200:230, 200:230]))
    images.append(("extreme_strip", camera[:60, :]))
    return images


def face_photos(step: int = 10) -> list[tuple[str, np.ndarray]]:
    """Every `step`-th of the 25x25 grey faces bundled with scikit-image, enlarged to 250x250."""
    import skimage

    faces = np.load(Path(skimage.__file__).parent / "data" / "lfw_subset.npy")  # (200, 25, 25) floats in [0, 1]
    return [(f"face_{index}", cv2.resize((faces[index] * 255).astype(np.uint8), (250, 250), interpolation=cv2.INTER_CUBIC)) for index in range(0, len(faces), step)]


def digit_pictures(count: int = 10) -> list[tuple[str, np.ndarray]]:
    """scikit-learn's bundled 8x8 handwritten digits, enlarged to 256x256."""
    from sklearn.datasets import load_digits

    digits = load_digits().images  # (N, 8, 8) values 0-16
    return [(f"digit_{index}", cv2.resize((digits[index] * 16).astype(np.uint8), (256, 256), interpolation=cv2.INTER_NEAREST)) for index in range(count)]


def blob_pictures(count: int = 5) -> list[tuple[str, np.ndarray]]:
    from skimage.data import binary_blobs

    return [(f"blobs_{index}", binary_blobs(256, blob_size_fraction=0.1 + 0.05 * index, rng=index).astype(np.uint8) * 255) for index in range(count)]


def chart_pictures(rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    """Rendered matplotlib charts (line, bar, scatter, histogram, grey heat map), as RGB arrays."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts = []
    for kind in ("line", "bar", "scatter", "hist", "imshow"):
        figure, axes = plt.subplots(figsize=(4, 4), dpi=80)
        if kind == "line":
            axes.plot(np.cumsum(rng.normal(size=100)))
        elif kind == "bar":
            axes.bar(range(8), rng.random(8))
        elif kind == "scatter":
            axes.scatter(rng.random(50), rng.random(50))
        elif kind == "hist":
            axes.hist(rng.normal(size=500), bins=30)
        else:
            axes.imshow(rng.random((20, 20)), cmap="gray")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        plt.close(figure)
        buffer.seek(0)
        with Image.open(buffer) as picture:
            charts.append((f"chart_{kind}", np.asarray(picture.convert("RGB"))))
    return charts


def held_out_non_mri_images(seed: int = 1) -> list[tuple[str, np.ndarray]]:
    """Non-MRI kinds kept out of every OOD design choice, as (name, array) in a fixed order."""
    return [*face_photos(), *digit_pictures(), *blob_pictures(), *chart_pictures(np.random.default_rng(seed))]
