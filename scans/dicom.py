"""DICOM: read safely, refuse what would be unbounded to decode, de-identify, window to an 8-bit display image.

Before any decoder runs: a deflated data set is inflated under an output cap, and a compressed
frame's own header (JPEG SOF, JPEG-LS SOF55, JPEG 2000 SIZ) must agree with Rows/Columns, so a
small file cannot announce a huge picture. Every attribute the display depends on (rescale,
window, LUTs) is checked, and any malformed one ends in a refusal, never an error page.
De-identification is scans.deidentify (PS3.15 Table E.1-1).
"""

import io
import math
import zlib

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.encaps import generate_frames
from pydicom.errors import InvalidDicomError
from pydicom.filereader import _read_file_meta_info, read_preamble
from pydicom.filewriter import write_file_meta_info
from pydicom.multival import MultiValue
from pydicom.pixels import apply_modality_lut, apply_voi_lut
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    JPEG2000TransferSyntaxes,
    JPEGLSTransferSyntaxes,
    JPEGTransferSyntaxes,
)

from scans.deidentify import DEIDENTIFICATION_METHOD, deidentify  # noqa: F401  (re-exported for callers)
from scans.errors import ScanRejected
from scans.frame_headers import j2k_header, jpeg_header
from scans.images import MAX_JPEG_SCANS, DecodedImage, _MULTI_FRAME_MESSAGE, check_pixel_count, scale_to_uint8

_DAMAGED = "The DICOM file is damaged or incomplete and cannot be read."
_MULTI_FRAME_DICOM_MESSAGE = (
    "This DICOM file holds several frames (a volume). A scan upload reads one 2-D slice: upload the file "
    "as a study instead, which reads every frame as a slice."
)
_BURNED_IN = (
    "This DICOM image says it has burned-in annotation (text such as names or dates drawn into the pixels), "
    "which de-identification cannot remove. NeuroScan does not accept it: export the slice without annotations."
)


# Modality (PS3.3 C.7.3.1.1.1) decides before any pixel is read: a CT or an X-ray says what it is in
# its header, and a head CT is the non-MRI a hospital user is most likely to send. MR is read; OT
# ("other", e.g. a viewer's secondary capture) and a missing value are left to the model's own refusal.
_MODALITIES_READ = {"MR", "OT", ""}
_MODALITY_NAMES = {
    "CT": "a CT image", "CR": "an X-ray", "DX": "an X-ray", "RG": "an X-ray", "MG": "a mammogram", "IO": "an intra-oral X-ray",
    "PX": "a panoramic X-ray", "XA": "an X-ray angiogram", "RF": "a fluoroscopy image", "US": "an ultrasound image",
    "PT": "a PET image", "NM": "a nuclear medicine image", "ES": "an endoscopy image", "XC": "a photograph", "OP": "an eye photograph",
    "SM": "a microscopy slide", "SEG": "a segmentation", "RTSTRUCT": "a radiotherapy structure set", "SR": "a structured report",
}  # fmt: skip


def modality_problem(dataset: Dataset) -> str | None:
    """A DICOM data set -> why its Modality is not one NeuroScan reads, or None."""
    modality = "".join(character for character in str(dataset.get("Modality", "") or "").upper() if character.isalnum())[:16]
    if modality in _MODALITIES_READ:
        return None
    what = _MODALITY_NAMES.get(modality, "not an MR image")
    return f"This DICOM file is {what} (Modality {modality}), not a brain MRI: NeuroScan reads MRI only."


def decode_dicom(data: bytes, *, max_pixels: int) -> DecodedImage:
    """Bytes of a DICOM Part-10 file -> de-identified DICOM bytes + 8-bit display image."""
    data = inflated(data, max_pixels=max_pixels)
    try:
        # force=False (the default): a file without the DICM preamble is not DICOM to us.
        dataset = pydicom.dcmread(io.BytesIO(data), force=False)
    except Exception:  # pydicom raises many kinds on hostile input; none may reach the user as a 500
        raise ScanRejected(_DAMAGED) from None

    if "PixelData" not in dataset:
        raise ScanRejected("The DICOM file holds no image (no pixel data): upload an image slice, not a report or a structured document.")
    if problem := modality_problem(dataset):
        raise ScanRejected(problem)
    if str(dataset.get("BurnedInAnnotation", "")).strip().upper() == "YES":
        raise ScanRejected(_BURNED_IN)
    frames = _int_attribute(dataset, "NumberOfFrames", 1)
    if frames > 1:
        raise ScanRejected(_MULTI_FRAME_DICOM_MESSAGE)
    rows, columns = _int_attribute(dataset, "Rows", 0), _int_attribute(dataset, "Columns", 0)
    check_pixel_count(columns, rows, max_pixels=max_pixels)
    samples = _int_attribute(dataset, "SamplesPerPixel", 1)
    if samples not in (1, 3):
        raise ScanRejected("The DICOM image has an unsupported number of colour samples per pixel.")
    _check_compressed_frame(dataset, rows=rows, columns=columns, samples=samples)

    display = _display_pixels(dataset)
    try:
        deidentify(dataset)
        stored = _to_bytes(dataset)
    except ScanRejected:
        raise
    except Exception:  # an attribute whose value cannot be written back: nothing is stored
        raise ScanRejected(_DAMAGED) from None
    return DecodedImage(format="dicom", stored_bytes=stored, display=display, deidentified=True)


# --- Before decoding -----------------------------------------------------------------------------


def inflated(data: bytes, *, max_pixels: int) -> bytes:
    """A Deflated Explicit VR Little Endian file -> the same file, inflated, uncompressed; ScanRejected
    when it would inflate to more than a legal slice of max_pixels needs (16-bit samples, three of
    them, plus 1 MB of attributes).

    pydicom would inflate the whole stream in memory: 800 KB can become gigabytes. Anything that
    parses a DICOM upload calls this first. Other files are returned as they are.
    """
    max_bytes = max_pixels * 2 * 3 + (1 << 20)
    buffer = io.BytesIO(data)
    try:
        read_preamble(buffer, False)
        meta = _read_file_meta_info(buffer)
    except Exception:
        raise ScanRejected(_DAMAGED) from None
    if meta.get("TransferSyntaxUID") != DeflatedExplicitVRLittleEndian:
        return data
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        body = inflater.decompress(data[buffer.tell() :], max_bytes + 1)
    except zlib.error:
        raise ScanRejected("The DICOM file's deflated data is damaged and cannot be read.") from None
    if len(body) <= max_bytes and not inflater.eof:  # the stream stops before its end: truncated or garbled
        raise ScanRejected("The DICOM file's deflated data is damaged and cannot be read.")
    if len(body) > max_bytes or inflater.unconsumed_tail:
        raise ScanRejected(
            f"The DICOM file's deflated data expands to more than {max_bytes // (1 << 20)} MB, far more than one slice "
            "needs. NeuroScan refuses it: export the slice uncompressed."
        )
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    out = io.BytesIO()
    out.write(b"\x00" * 128 + b"DICM")
    write_file_meta_info(out, meta, enforce_standard=True)
    out.write(body)
    return out.getvalue()


def _check_compressed_frame(dataset: Dataset, *, rows: int, columns: int, samples: int) -> None:
    """The compressed frame's own header must describe the picture Rows/Columns describe, before decoding.

    Decoders allocate what the frame header says, not what Rows/Columns say. RLE needs no check:
    its decoder writes Rows x Columns and no more. Other compressions are refused later as not decodable.
    """
    syntax = dataset.file_meta.get("TransferSyntaxUID")
    if syntax in JPEGTransferSyntaxes or syntax in JPEGLSTransferSyntaxes:
        reader = lambda frame: jpeg_header(frame, max_scans=MAX_JPEG_SCANS)  # noqa: E731
    elif syntax in JPEG2000TransferSyntaxes:
        reader = j2k_header
    else:
        return
    try:
        frame = next(generate_frames(dataset.PixelData, number_of_frames=1))
        header = reader(frame)
    except Exception:  # no fragments, a broken item, or a frame without a readable header
        raise ScanRejected("The DICOM pixel data is damaged or incomplete and cannot be decoded.") from None
    if (header.width, header.height) != (columns, rows) or header.components != samples:
        raise ScanRejected(
            f"The DICOM file is inconsistent: its compressed image is {header.width} x {header.height} pixels "
            f"with {header.components} component(s), but the file says {columns} x {rows} with {samples}. "
            "NeuroScan does not decode it."
        )
    if header.scans > MAX_JPEG_SCANS:
        raise ScanRejected(f"The DICOM image is a JPEG of more than {MAX_JPEG_SCANS} progressive scans, which NeuroScan does not decode.")


def _int_attribute(dataset: Dataset, keyword: str, default: int) -> int:
    try:
        value = dataset.get(keyword, default)
        return int(value) if value not in (None, "") else default
    except Exception:
        raise ScanRejected(f"The DICOM file has an invalid {keyword} value.") from None


def _numbers(dataset: Dataset, keyword: str) -> list[float] | None:
    """A numeric attribute's values (one or several), each finite; None if absent or empty; ScanRejected naming it otherwise."""
    try:
        if keyword not in dataset or dataset[keyword].value in (None, ""):
            return None
        raw = dataset[keyword].value
        values = [float(value) for value in (raw if isinstance(raw, (list, tuple, MultiValue)) else [raw])]
    except Exception:
        raise ScanRejected(f"The DICOM file has an invalid {keyword} value (not a number).") from None
    if not values or not all(math.isfinite(value) for value in values):
        raise ScanRejected(f"The DICOM file has an invalid {keyword} value (not a finite number).")
    return values


def _check_display_attributes(dataset: Dataset) -> None:
    """Rescale and window values must be numbers that give a picture: checked before pydicom uses them."""
    slope = _numbers(dataset, "RescaleSlope")
    if slope is not None and slope[0] == 0:
        raise ScanRejected("The DICOM file has an invalid RescaleSlope value (0 would make every pixel the same).")
    _numbers(dataset, "RescaleIntercept")
    _numbers(dataset, "WindowCenter")
    widths = _numbers(dataset, "WindowWidth")
    if widths is not None and any(width <= 0 for width in widths):
        raise ScanRejected("The DICOM file has an invalid WindowWidth value (a window must be wider than 0).")


# --- Decoding ------------------------------------------------------------------------------------


def _display_pixels(dataset: Dataset) -> np.ndarray:
    """Stored values -> modality LUT/rescale -> VOI LUT/window -> uint8 (H, W) or (H, W, 3)."""
    syntax = dataset.file_meta.get("TransferSyntaxUID", "unknown")
    _check_display_attributes(dataset)
    try:
        pixels = dataset.pixel_array
    except (NotImplementedError, RuntimeError) as error:
        if "decod" in str(error).lower() or "plugin" in str(error).lower() or "handler" in str(error).lower():
            name = getattr(syntax, "name", str(syntax))
            raise ScanRejected(
                f"The DICOM file's compression ({name}) cannot be decoded here. Export it uncompressed or as JPEG/JPEG 2000."
            ) from None
        raise ScanRejected("The DICOM pixel data is damaged or incomplete and cannot be decoded.") from None
    except MemoryError:
        raise  # the sandbox answers it (scans.sandbox.TOO_MUCH_MEMORY)
    except Exception:
        raise ScanRejected("The DICOM pixel data is damaged or incomplete and cannot be decoded.") from None

    if pixels.ndim == 3 and pixels.shape[-1] == 3 and _int_attribute(dataset, "SamplesPerPixel", 1) == 3:
        return scale_to_uint8(pixels) if pixels.dtype != np.uint8 else np.ascontiguousarray(pixels)
    if pixels.ndim != 2:
        raise ScanRejected(_MULTI_FRAME_MESSAGE)

    try:
        values = apply_modality_lut(pixels, dataset)  # stored values -> real-world (e.g. rescale slope/intercept)
    except Exception:  # a short or malformed Modality LUT, or a rescale pydicom cannot apply
        raise ScanRejected("The DICOM file's Modality LUT or rescale values are malformed, so the image cannot be shown.") from None
    try:
        if "WindowCenter" in dataset or "VOILUTSequence" in dataset:
            values = apply_voi_lut(values, dataset, index=0)  # the window the modality suggests
    except Exception:  # a short VOI LUT, a window pydicom cannot apply
        raise ScanRejected("The DICOM file's VOI LUT or window values are malformed, so the image cannot be shown.") from None
    values = np.asarray(values, dtype=np.float64)
    if values.shape != pixels.shape or not np.isfinite(values).all():
        raise ScanRejected("The DICOM file's rescale, window or LUT values give no usable picture.")
    grey = scale_to_uint8(values)
    if str(dataset.get("PhotometricInterpretation", "")).upper() == "MONOCHROME1":
        grey = 255 - grey  # MONOCHROME1: low values are white
    return grey


def _to_bytes(dataset: Dataset) -> bytes:
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
