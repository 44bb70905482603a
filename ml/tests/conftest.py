"""Shared fixtures: the committed classifier (loaded once) and small synthetic images."""

import os

import numpy as np
import pytest

from ml import config


def data_available() -> bool:
    return config.training_images_dir().is_dir()


def require_data_or_skip() -> None:
    """Skip when the shared data is absent, unless NEUROSCAN_REQUIRE_DATA=1 makes it a failure."""
    if data_available():
        return
    if os.environ.get("NEUROSCAN_REQUIRE_DATA") == "1":
        pytest.fail(f"NEUROSCAN_REQUIRE_DATA=1 but no data at {config.training_images_dir()}")
    pytest.skip(f"no training data at {config.training_images_dir()}")


def head_like_slice(height: int = 300, width: int = 260, margin: int = 40, seed: int = 0) -> np.ndarray:
    """uint8 (height, width): a textured bright ellipse inside a black margin."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    centre_y, centre_x = height / 2, width / 2
    inside = ((yy - centre_y) / (height / 2 - margin)) ** 2 + ((xx - centre_x) / (width / 2 - margin)) ** 2 < 1.0
    texture = 110 + 50 * np.sin(xx / 7.0) * np.cos(yy / 9.0) + rng.normal(0, 8, (height, width))
    return np.where(inside, np.clip(texture, 1, 255), 0).astype(np.uint8)


@pytest.fixture(scope="session")
def classifier():
    from ml.inference import Classifier

    return Classifier.load()


@pytest.fixture(scope="session")
def mri_slice() -> np.ndarray:
    """A real validation MRI when the data is present, else a synthetic head-like slice."""
    if data_available():
        from ml.data import decode_image_file, read_split

        return decode_image_file(config.training_images_dir() / read_split()["validation"][0])
    return head_like_slice()
