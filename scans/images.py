"""Decode one uploaded slice from its bytes: sniff the type, refuse what is unsafe, make a display image.

Pure functions (bytes in, numpy/PNG bytes out), no Django models, so they are tested without a
database. The type is decided from the bytes alone, never from the name or Content-Type.
"""

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFile

from scans.errors import ScanRejected
from scans.frame_headers import jpeg_header

# Pillow stays strict: a truncated file is an error, not a half-grey picture.
ImageFile.LOAD_TRUNCATED_IMAGES = False

THUMBNAIL_SIDE = 160  # pixels, longest side
# A progressive JPEG costs the decoder one pass per scan; real ones have about 10. libjpeg-turbo's
# own "max scans" guard uses 100 too.
MAX_JPEG_SCANS = 100
# Pillow modes a PNG can hold as they are (so a 16-bit slice keeps its 16 bits at rest).
_PNG_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA", "I;16", "I"})

# Magic numbers of the accepted formats -> (our format name, Pillow format name).
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png", "PNG"),
    (b"\xff\xd8\xff", "jpeg", "JPEG"),
    (b"BM", "bmp", "BMP"),
    (b"II*\x00", "tiff", "TIFF"),
    (b"MM\x00*", "tiff", "TIFF"),
)
DICOM_PREAMBLE_LENGTH = 128


@dataclass(frozen=True)
class DecodedImage:
    format: str  # one of scans.models.ScanFormat values
    stored_bytes: bytes  # what goes to storage: re-encoded pixels (PNG) of a raster, or the de-identified DICOM
    display: np.ndarray  # uint8 (H, W) grey or (H, W, 3) RGB: what the browser shows and the model reads
    deidentified: bool = False

    @property
    def stored_extension(self) -> str:
        return "dcm" if self.format == "dicom" else "png"

    @property
    def width(self) -> int:
        return int(self.display.shape[1])

    @property
    def height(self) -> int:
        return int(self.display.shape[0])


def sniff_format(data: bytes) -> str | None:
    """The format the bytes say they are in, or None. DICOM needs the 128-byte preamble + 'DICM' (PS3.10)."""
    if data[DICOM_PREAMBLE_LENGTH : DICOM_PREAMBLE_LENGTH + 4] == b"DICM":
        return "dicom"
    for signature, name, _ in _SIGNATURES:
        if data.startswith(signature):
            return name
    return None


def decode_upload(data: bytes, *, max_pixels: int) -> DecodedImage:
    """Bytes of one upload -> DecodedImage, or ScanRejected with a message for the user."""
    if not data:
        raise ScanRejected("The file is empty.")
    kind = sniff_format(data)
    if kind is None:
        raise ScanRejected(
            "This file is not an image NeuroScan can read. Upload a JPEG, PNG, BMP, TIFF or DICOM slice "
            "(the file's contents decide, not its name)."
        )
    if kind == "dicom":
        from scans.dicom import decode_dicom  # pydicom is only imported when a DICOM arrives

        return decode_dicom(data, max_pixels=max_pixels)
    return _decode_raster(data, kind, max_pixels=max_pixels)


def _decode_raster(data: bytes, kind: str, *, max_pixels: int) -> DecodedImage:
    pillow_format = next(pillow for _, name, pillow in _SIGNATURES if name == kind)
    if kind == "jpeg":
        check_jpeg_header(data, max_pixels=max_pixels)
    try:
        # Decompression-bomb warnings become errors; Pillow's own pixel limit stays on.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # formats=[...]: only the decoder the magic number named may touch these bytes.
            with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
                width, height = image.size
                check_pixel_count(width, height, max_pixels=max_pixels)
                if getattr(image, "n_frames", 1) > 1:
                    raise ScanRejected(_MULTI_FRAME_MESSAGE)
                image.load()
                pixels = to_display_array(image)
                stored = pixels_only_png(image, pixels)
    except ScanRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ScanRejected(_too_many_pixels_message(max_pixels)) from None
    except MemoryError:
        raise  # the sandbox answers it (scans.sandbox.TOO_MUCH_MEMORY)
    except (OSError, ValueError, SyntaxError, EOFError, Image.UnidentifiedImageError):
        # Truncated or corrupt data: Pillow raises one of these, never returns a partial image.
        raise ScanRejected(f"The {kind.upper()} file is damaged or incomplete and cannot be decoded.") from None
    return DecodedImage(format=kind, stored_bytes=stored, display=pixels)


def check_jpeg_header(data: bytes, *, max_pixels: int) -> None:
    """Refuse a JPEG by its markers alone: no frame header, too many pixels, or too many scans."""
    try:
        header = jpeg_header(data, max_scans=MAX_JPEG_SCANS)
    except ValueError:
        raise ScanRejected("The JPEG file is damaged or incomplete and cannot be decoded.") from None
    check_pixel_count(header.width, header.height, max_pixels=max_pixels)
    if header.scans > MAX_JPEG_SCANS:
        raise ScanRejected(
            f"The JPEG file is made of more than {MAX_JPEG_SCANS} progressive scans, which NeuroScan does not decode. "
            "Save the slice again as an ordinary (baseline) JPEG or as PNG."
        )


def pixels_only_png(image: Image.Image, display: np.ndarray) -> bytes:
    """The decoded pixels as a PNG, and nothing else: no EXIF, text chunks, ICC profile or trailing bytes.

    What a raster upload is stored as: its metadata (names, MRNs in EXIF or PNG text, TIFF
    descriptions) and anything appended after the image never reach storage.
    """
    if image.mode in _PNG_MODES:
        clean = image.copy()
        clean.info = {}  # Pillow's PNG writer copies icc_profile, exif, dpi... from info
    else:
        clean = Image.fromarray(display)  # CMYK, float and other modes a PNG cannot hold: the 8-bit picture
    buffer = io.BytesIO()
    clean.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


_MULTI_FRAME_MESSAGE = (
    "This file holds several frames or a volume. NeuroScan reads one 2-D slice per file: "
    "export the slice you want as its own file."
)


def _too_many_pixels_message(max_pixels: int) -> str:
    return f"The image is too large ({max_pixels:,} pixels at most). Upload a single slice at its native resolution."


def check_pixel_count(width: int, height: int, *, max_pixels: int) -> None:
    """Refuse before decoding: a small file may claim an enormous picture (a decompression bomb)."""
    if width <= 0 or height <= 0:
        raise ScanRejected("The image has no pixels.")
    if width * height > max_pixels:
        raise ScanRejected(_too_many_pixels_message(max_pixels))


def to_display_array(image: Image.Image) -> np.ndarray:
    """A decoded Pillow image -> uint8 (H, W) grey or (H, W, 3) RGB."""
    if image.mode in ("L", "RGB"):
        return np.asarray(image, dtype=np.uint8).copy()
    if image.mode in ("1", "P", "PA", "LA", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"):
        target = "L" if image.mode in ("1", "LA") or (image.mode in ("P", "PA") and _palette_is_grey(image)) else "RGB"
        return np.asarray(image.convert(target), dtype=np.uint8).copy()
    # 16-bit and float greys (I;16, I, F): stretch to 8 bits between their own extremes.
    return scale_to_uint8(np.asarray(image, dtype=np.float64))


def _palette_is_grey(image: Image.Image) -> bool:
    palette = np.asarray(image.convert("RGB"))
    return bool(np.all(palette[..., 0] == palette[..., 1]) and np.all(palette[..., 1] == palette[..., 2]))


def scale_to_uint8(values: np.ndarray) -> np.ndarray:
    """Any real-valued (H, W[, 3]) array -> uint8, min..max stretched to 0..255 (constant -> 0)."""
    values = np.nan_to_num(values.astype(np.float64))
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint8)
    return np.round((values - low) * (255.0 / (high - low))).astype(np.uint8)


def encode_png(pixels: np.ndarray) -> bytes:
    """uint8 (H, W) or (H, W, 3) -> PNG bytes (no metadata: nothing but pixels is written).

    zlib level 1: lossless at any level, and the heat map and overlay are written once per analysis.
    On 20 validation slices' overlay + heat: level 6 48 ms a slice, 3 19 ms, 1 14 ms,
    for 165, 171 and 188 KiB. At 6, encoding was half of a worker's time per slice (`python -m studies.bench`).
    """
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", optimize=False, compress_level=1)
    return buffer.getvalue()


def heat_to_grey(heat: np.ndarray) -> np.ndarray:
    """(H, W) float heat in [0, 1] -> uint8 (H, W), 255 = most influence."""
    return np.clip(np.rint(np.nan_to_num(heat, nan=0.0) * 255.0), 0, 255).astype(np.uint8)


def encode_thumbnail(pixels: np.ndarray, *, side: int = THUMBNAIL_SIDE) -> bytes:
    image = Image.fromarray(pixels)
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def read_display_png(data: bytes) -> np.ndarray:
    """The stored display PNG -> uint8 array, as the model reads it. Raises ValueError if damaged."""
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            image.load()
            return to_display_array(image)
    except (OSError, SyntaxError, EOFError) as error:
        raise ValueError("The stored image is damaged.") from error
