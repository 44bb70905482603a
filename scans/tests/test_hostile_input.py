"""Hostile uploads: files of a few kilobytes that would make the server allocate or loop without bound.

Every bomb is built here, from a real small file whose header is then made to lie; none is
committed. Each one must be refused quickly, with a message, and leave nothing behind.
"""

import io
import os
import struct
import time

import pydicom
import pytest
from PIL import Image
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import DeflatedExplicitVRLittleEndian, JPEGBaseline8Bit

from scans import sandbox
from scans.tests import sandbox_targets as targets
from scans.errors import ScanRejected
from scans.frame_headers import j2k_header, jpeg_header
from scans.images import MAX_JPEG_SCANS, decode_upload
from scans.models import Scan
from scans.services import scan_ingest
from scans.tests.conftest import media_files
from scans.tests.factories import bundled_dicom, dicom_bytes, dicom_dataset, slice_pixels, upload_file

MAX_PIXELS = 25_000_000
HUGE = 20_000  # 20000 x 20000 = 400 million pixels: ~2 GB for the decoder to allocate


# --- Builders ------------------------------------------------------------------------------------


def _dicom_with_frame(data: bytes, patch) -> bytes:
    """A compressed DICOM whose first frame is replaced by patch(frame)."""
    dataset = pydicom.dcmread(io.BytesIO(data))
    dataset.Modality = "MR"  # the codec is under test; pydicom's JPEG 2000 sample says nuclear medicine
    frame = next(generate_frames(dataset.PixelData, number_of_frames=1))
    dataset.PixelData = encapsulate([patch(frame)])
    return dicom_bytes(dataset)


def _jpeg_dicom() -> bytes:
    """An 8-bit grey MR slice, JPEG baseline compressed (Pillow), in a Part-10 file."""
    dataset = dicom_dataset(with_phi=False)
    dataset.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = 8, 8, 7
    del dataset.WindowCenter, dataset.WindowWidth
    buffer = io.BytesIO()
    Image.fromarray(slice_pixels(64, 48)).save(buffer, format="JPEG", quality=90)
    dataset.PixelData = encapsulate([buffer.getvalue()])
    dataset["PixelData"].VR = "OB"
    dataset.LossyImageCompression = "01"
    return dicom_bytes(dataset)


def _claim_size_in_sof(frame: bytes, marker: bytes, width: int, height: int) -> bytes:
    at = frame.index(marker) + 2 + 2 + 1  # marker, length, precision
    return frame[:at] + struct.pack(">HH", height, width) + frame[at + 4 :]


def _claim_size_in_siz(frame: bytes, width: int, height: int) -> bytes:
    at = frame.index(b"\xff\x4f\xff\x51") + 4 + 2 + 2  # SOC, SIZ marker, Lsiz, Rsiz
    size = struct.pack(">IIIIII", width, height, 0, 0, width, height)  # image and one tile of the same size
    return frame[:at] + size + frame[at + len(size) :]


def _progressive_jpeg(scans_after: int = 0) -> bytes:
    """A real progressive JPEG; with scans_after, its last scan repeated that many more times."""
    buffer = io.BytesIO()
    Image.fromarray(slice_pixels(96, 80)).save(buffer, format="JPEG", progressive=True, quality=85)
    data = buffer.getvalue()
    if scans_after:
        last_scan = data[data.rindex(b"\xff\xda") : data.rindex(b"\xff\xd9")]
        data = data[: data.rindex(b"\xff\xd9")] + last_scan * scans_after + b"\xff\xd9"
    return data


def _deflated_dicom(padding_bytes: int = 0) -> bytes:
    """A Deflated Explicit VR Little Endian slice; padding_bytes of zeros (compressing to almost nothing) in a private tag."""
    dataset = dicom_dataset(with_phi=False)
    if padding_bytes:
        block = dataset.private_block(0x0013, "BOMB", create=True)
        block.add_new(0x01, "OB", b"\x00" * padding_bytes)
    dataset.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    return dicom_bytes(dataset)


# --- Frame headers, read without decoding --------------------------------------------------------


def test_it_reads_the_size_from_a_jpeg_frame_header():
    frame = next(generate_frames(pydicom.dcmread(io.BytesIO(_jpeg_dicom())).PixelData, number_of_frames=1))
    assert (jpeg_header(frame).width, jpeg_header(frame).height, jpeg_header(frame).components) == (64, 48, 1)


def test_it_reads_the_size_from_a_jpeg_ls_and_a_jpeg_2000_frame_header():
    ls = pydicom.dcmread(io.BytesIO(bundled_dicom("MR_small_jpeg_ls_lossless.dcm")))
    header = jpeg_header(next(generate_frames(ls.PixelData, number_of_frames=1)))
    assert (header.width, header.height) == (ls.Columns, ls.Rows)
    j2k = pydicom.dcmread(io.BytesIO(bundled_dicom("JPEG2000.dcm")))
    header = j2k_header(next(generate_frames(j2k.PixelData, number_of_frames=1)))
    assert (header.width, header.height) == (j2k.Columns, j2k.Rows)


def test_it_counts_the_scans_of_a_progressive_jpeg():
    assert 2 <= jpeg_header(_progressive_jpeg()).scans <= 20
    assert jpeg_header(_progressive_jpeg(scans_after=500), max_scans=100).scans == 101  # stops counting at the limit


# --- Compressed DICOM whose frame header lies ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("JPEG", lambda: _dicom_with_frame(_jpeg_dicom(), lambda f: _claim_size_in_sof(f, b"\xff\xc0", HUGE, HUGE))),
        ("JPEG-LS", lambda: _dicom_with_frame(bundled_dicom("MR_small_jpeg_ls_lossless.dcm"),
                                              lambda f: _claim_size_in_sof(f, b"\xff\xf7", HUGE, HUGE))),
        ("JPEG 2000", lambda: _dicom_with_frame(bundled_dicom("JPEG2000.dcm"), lambda f: _claim_size_in_siz(f, HUGE, HUGE))),
    ],
)  # fmt: skip
def test_it_refuses_a_compressed_frame_bigger_than_rows_and_columns_before_decoding(name, build):
    bomb = build()
    assert len(bomb) < 20_000  # kilobytes that claim 400 million pixels
    started = time.monotonic()
    with pytest.raises(ScanRejected, match=f"compressed image is {HUGE} x {HUGE} pixels"):
        decode_upload(bomb, max_pixels=MAX_PIXELS)
    assert time.monotonic() - started < 2


def test_it_still_decodes_an_honest_jpeg_dicom():
    decoded = decode_upload(_jpeg_dicom(), max_pixels=MAX_PIXELS)
    assert (decoded.width, decoded.height) == (64, 48)


def test_it_refuses_a_frame_whose_header_cannot_be_read():
    with pytest.raises(ScanRejected, match="damaged or incomplete"):
        decode_upload(_dicom_with_frame(_jpeg_dicom(), lambda f: b"\xff\xd8" + b"\x00" * 64), max_pixels=MAX_PIXELS)


# --- Deflated DICOM ------------------------------------------------------------------------------


def test_it_inflates_an_honest_deflated_dicom():
    assert decode_upload(bundled_dicom("image_dfl.dcm"), max_pixels=MAX_PIXELS).format == "dicom"
    decoded = decode_upload(_deflated_dicom(), max_pixels=MAX_PIXELS)
    assert (decoded.width, decoded.height) == (64, 48)
    assert pydicom.dcmread(io.BytesIO(decoded.stored_bytes)).file_meta.TransferSyntaxUID != DeflatedExplicitVRLittleEndian


def test_it_refuses_a_deflate_bomb_without_inflating_it_all():
    bomb = _deflated_dicom(padding_bytes=64 * 1024 * 1024)  # 64 MB of zeros
    assert len(bomb) < 200_000
    # With a 64 x 48 cap, a legal slice needs about 1 MB inflated.
    with pytest.raises(ScanRejected, match="deflated data expands to more than"):
        decode_upload(bomb, max_pixels=64 * 48)


def test_it_refuses_damaged_deflated_data():
    data = _deflated_dicom()
    with pytest.raises(ScanRejected, match="deflated data is damaged"):
        decode_upload(data[:-200] + b"\xff" * 200, max_pixels=MAX_PIXELS)


# --- Progressive JPEG scan bomb ------------------------------------------------------------------


def test_it_refuses_a_jpeg_with_too_many_progressive_scans_before_decoding():
    bomb = _progressive_jpeg(scans_after=5_000)
    started = time.monotonic()
    with pytest.raises(ScanRejected, match=f"more than {MAX_JPEG_SCANS} progressive scans"):
        decode_upload(bomb, max_pixels=MAX_PIXELS)
    assert time.monotonic() - started < 2


def test_it_accepts_an_ordinary_progressive_jpeg():
    assert decode_upload(_progressive_jpeg(), max_pixels=MAX_PIXELS).format == "jpeg"


def test_a_dicom_jpeg_with_too_many_scans_is_refused():
    dataset = pydicom.dcmread(io.BytesIO(_jpeg_dicom()))
    dataset.Rows, dataset.Columns = 80, 96
    dataset.PixelData = encapsulate([_progressive_jpeg(scans_after=500)])
    with pytest.raises(ScanRejected, match="progressive scans"):
        decode_upload(dicom_bytes(dataset), max_pixels=MAX_PIXELS)


# --- Decoding under a memory ceiling and a deadline ----------------------------------------------


def test_the_sandbox_returns_the_result_of_a_decode():
    assert sandbox.run_limited(targets.allocate, 10, memory_bytes=256 << 20, seconds=10) == 10 << 20


def test_the_sandbox_refuses_a_decode_that_needs_too_much_memory():
    with pytest.raises(ScanRejected, match="more memory than the portal allows") as raised:
        sandbox.run_limited(targets.allocate, 4096, memory_bytes=256 << 20, seconds=20)
    assert raised.value.code == "too_large"


def test_the_sandbox_stops_a_decode_that_takes_too_long():
    started = time.monotonic()
    with pytest.raises(ScanRejected, match="took too long"):
        sandbox.run_limited(targets.sleep, 30, memory_bytes=256 << 20, seconds=1)
    assert time.monotonic() - started < 5


def test_the_sandbox_survives_a_crashing_decoder():
    with pytest.raises(ScanRejected, match="decoder stopped"):
        sandbox.run_limited(targets.crash, memory_bytes=256 << 20, seconds=10)


def test_the_sandbox_passes_refusals_through():
    with pytest.raises(ScanRejected, match="no, thank you") as raised:
        sandbox.run_limited(targets.refuse, memory_bytes=256 << 20, seconds=10)
    assert raised.value.code == "too_large"


def _each(items, seconds: float = 10):
    return sandbox.run_limited_each(targets.behave, items, memory_bytes=256 << 20, seconds=seconds)


def test_the_sandbox_answers_many_items_in_order_from_one_child():
    first, second, refused, third = _each([("pid",), ("pid",), ("refuse",), ("pid",)])
    assert first == second == third != os.getpid()  # one child for all, and not this process
    assert isinstance(refused, ScanRejected) and refused.message == "no, thank you" and refused.code == "too_large"


def test_a_crash_among_many_items_refuses_that_item_only():
    before, crashed, after = _each([("pid",), ("crash",), ("pid",)])
    assert isinstance(crashed, ScanRejected) and "decoder stopped" in crashed.message
    assert isinstance(before, int) and isinstance(after, int) and before != after  # a fresh child after the crash


def test_too_much_memory_among_many_items_refuses_that_item_only():
    refused, after = _each([("allocate", 4096), ("allocate", 10)])
    assert isinstance(refused, ScanRejected) and "more memory than the portal allows" in refused.message
    assert after == 10 << 20


def test_a_slow_item_among_many_is_stopped_once_and_the_next_answered():
    started = time.monotonic()
    slow, after = _each([("sleep", 30), ("pid",)], seconds=1)
    assert isinstance(slow, ScanRejected) and "took too long" in slow.message and isinstance(after, int)
    assert time.monotonic() - started < 5  # not tried a second time


def test_an_item_that_ends_a_used_child_is_tried_again_in_a_fresh_one():
    # A crash that depends on what the child did before is not the file's fault.
    assert _each([("pid",), ("crash_if_used",)])[1] == "fresh"


@pytest.mark.django_db
def test_ingest_decodes_under_the_memory_ceiling(settings, alice, sent_tasks):
    """A legal 5000 x 5000 PNG needs more than 8 MB to decode: with that ceiling it is refused, nothing stored."""
    settings.SCANS_DECODE_MEMORY_MB = 64
    buffer = io.BytesIO()
    Image.new("L", (5000, 5000)).save(buffer, format="PNG")
    small = io.BytesIO()
    Image.new("L", (100, 100)).save(small, format="PNG")
    assert scan_ingest(owner=alice, uploaded_file=upload_file(small.getvalue())).width == 100
    settings.SCANS_DECODE_MEMORY_MB = 16
    with pytest.raises(ScanRejected, match="memory"):
        scan_ingest(owner=alice, uploaded_file=upload_file(buffer.getvalue()))
    assert Scan.objects.count() == 1 and len(media_files()) == 3
