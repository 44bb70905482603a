import numpy as np
import pytest

from ml import config
from ml.preprocess import map_to_original, preprocess, preprocess_with_geometry, to_grey
from ml.tests.conftest import head_like_slice

SIZE = config.IMAGE_SIZE


def assert_model_ready(picture: np.ndarray) -> None:
    assert picture.shape == (SIZE, SIZE)
    assert picture.dtype == np.float32
    assert picture.min() >= 0.0 and picture.max() <= 1.0
    assert picture.max() > 0.5  # the content was rescaled, not lost


def test_it_accepts_uint8_grey():
    assert_model_ready(preprocess(head_like_slice()))


def test_it_accepts_uint16_grey():
    assert_model_ready(preprocess(head_like_slice().astype(np.uint16) * 16))


def test_it_accepts_rgb_holding_grey():
    grey = head_like_slice()
    picture = preprocess(np.stack([grey] * 3, axis=2))
    np.testing.assert_allclose(picture, preprocess(grey), atol=1e-5)


def test_it_accepts_rgba_and_treats_transparency_as_black():
    grey = head_like_slice()
    rgba = np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    np.testing.assert_allclose(preprocess(rgba), preprocess(grey), atol=1e-5)
    rgba[:, :, 3] = 0
    assert preprocess(rgba).max() == 0.0


def test_it_accepts_float_images_of_any_range():
    grey = head_like_slice().astype(np.float64)
    assert_model_ready(preprocess(grey / 255.0))
    np.testing.assert_allclose(preprocess(grey * 1000.0 - 50.0), preprocess(grey), atol=1e-5)


def test_it_accepts_a_single_channel_axis():
    grey = head_like_slice()
    np.testing.assert_allclose(preprocess(grey[:, :, np.newaxis]), preprocess(grey))


def test_it_crops_the_black_margin():
    grey = head_like_slice(margin=0)  # (300, 260), the head touches the edges
    framed = np.zeros((grey.shape[0] + 200, grey.shape[1] + 120), np.uint8)
    framed[150 : 150 + grey.shape[0], 40 : 40 + grey.shape[1]] = grey
    _, geometry = preprocess_with_geometry(framed)
    # The box hugs the head, give or take the small safety margin kept around it.
    assert abs(geometry.top - 150) <= 15 and abs(geometry.left - 40) <= 15
    assert abs(geometry.height - 300) <= 30 and abs(geometry.width - 260) <= 30


def test_it_returns_the_crop_box_and_maps_back_into_it():
    grey = np.zeros((400, 300), np.uint8)
    grey[100:300, 50:250] = head_like_slice(200, 200, margin=0)
    _, geometry = preprocess_with_geometry(grey)
    assert (geometry.original_height, geometry.original_width) == (400, 300)
    assert geometry.top <= 100 and geometry.top + geometry.height >= 300
    full = map_to_original(np.ones((10, 10), np.float32), geometry)
    assert full.shape == (400, 300)
    assert full[0, 0] == 0.0 and full[200, 150] == pytest.approx(1.0)


def test_it_gives_zeros_for_a_constant_image():
    assert preprocess(np.full((64, 64), 7, np.uint8)).max() == 0.0


@pytest.mark.parametrize(
    "bad_input",
    [
        np.zeros((0, 10), np.uint8),
        np.zeros((10,), np.uint8),
        np.zeros((2, 10, 10, 3), np.uint8),
        np.zeros((10, 10, 2), np.uint8),
        np.full((10, 10), np.nan, np.float32),
        np.full((10, 10), np.inf),
        np.zeros((10, 10), bool),
        np.zeros((10, 10), np.complex64),
        np.array([["a", "b"], ["c", "d"]], dtype=object),
        [[1, 2], [3, 4]],
    ],
    ids=["empty", "1d", "4d", "two_channels", "nan", "inf", "bool", "complex", "object", "list"],
)
def test_it_rejects_bad_input(bad_input):
    with pytest.raises(ValueError):
        preprocess(bad_input)


def test_to_grey_uses_luma_weights():
    red = np.zeros((4, 4, 3), np.uint8)
    red[:, :, 0] = 100
    assert to_grey(red)[0, 0] == pytest.approx(29.9, abs=0.5)
    assert to_grey(red.astype(np.float32))[0, 0] == pytest.approx(29.9, abs=1e-3)
