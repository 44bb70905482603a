"""scan_ingest: what is accepted, and every refusal leaves nothing behind (no row, no file, no task)."""

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from scans.errors import ScanRejected
from scans.models import Scan, ScanStatus
from scans.services import clean_file_name, scan_ingest
from scans.tests.conftest import media_files
from scans.tests.factories import bundled_dicom, dicom_bytes, dicom_dataset, image_bytes, upload_file

pytestmark = pytest.mark.django_db


def _ingest(owner, data: bytes, name: str = "slice.png", **kwargs):
    return scan_ingest(owner=owner, uploaded_file=upload_file(data, name), **kwargs)


@pytest.fixture
def refuses(alice, sent_tasks, django_capture_on_commit_callbacks):
    """Assert that ingesting `data` is refused with a message containing `match`, storing nothing."""

    def check(data: bytes, match: str, *, name: str = "slice.png", code: str = "invalid") -> ScanRejected:
        with django_capture_on_commit_callbacks(execute=True):
            with pytest.raises(ScanRejected, match=match) as raised:
                _ingest(alice, data, name)
        assert raised.value.code == code
        assert Scan.objects.count() == 0
        assert media_files() == []
        assert sent_tasks == []
        return raised.value

    return check


# --- Accepted formats -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pillow_format", "mode", "expected"),
    [("PNG", "L", "png"), ("JPEG", "L", "jpeg"), ("BMP", "RGB", "bmp"), ("TIFF", "L", "tiff"), ("PNG", "I;16", "png")],
)
def test_it_accepts_each_raster_format_decided_by_its_bytes(alice, sent_tasks, django_capture_on_commit_callbacks, pillow_format, mode, expected):
    data = image_bytes(pillow_format, mode=mode)
    # A misleading name: the bytes decide, not the extension.
    with django_capture_on_commit_callbacks(execute=True):
        scan = _ingest(alice, data, "named-wrongly.dcm", patient_reference=" P-001 ")
    scan.refresh_from_db()
    assert scan.format == expected
    assert (scan.width, scan.height) == (96, 80)
    assert scan.status == ScanStatus.QUEUED
    assert scan.patient_reference == "P-001"
    assert scan.original_name == "named-wrongly.dcm"
    assert len(scan.sha256) == 64
    assert sent_tasks == [{"args": [str(scan.id)], "kwargs": None, "options": {"retry": False, "ignore_result": True}}]
    assert len(media_files()) == 3  # original, display PNG, thumbnail


def test_it_stores_files_under_server_generated_names(alice, sent_tasks):
    scan = _ingest(alice, image_bytes(), "../../etc/passwd.png")
    assert scan.original_name == "passwd.png"
    for stored in (scan.file.name, scan.display.name, scan.thumbnail.name):
        assert str(scan.id) in stored and "passwd" not in stored


def test_it_keeps_only_a_printable_base_name_for_display():
    assert clean_file_name("C:\\scans\\brain\x00\x1b.png") == "brain.png"
    assert clean_file_name("") == "unnamed"
    assert len(clean_file_name("a" * 400 + ".png")) == 255


def test_it_sends_the_task_only_after_commit(alice, sent_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _ingest(alice, image_bytes())
    assert sent_tasks == [] and len(callbacks) == 1
    callbacks[0]()
    assert len(sent_tasks) == 1


# --- Size limit: below, equal, above ------------------------------------------------------


@pytest.mark.parametrize(("margin", "accepted"), [(1, True), (0, True), (-1, False)])
def test_it_applies_the_size_limit(settings, alice, sent_tasks, refuses, margin, accepted):
    data = image_bytes()
    settings.SCANS_MAX_UPLOAD_BYTES = len(data) + margin
    if accepted:
        assert _ingest(alice, data).status == ScanStatus.QUEUED
    else:
        refuses(data, "limit", code="too_large")


def test_it_refuses_a_file_larger_than_it_claims(settings, alice, refuses):
    data = image_bytes()
    settings.SCANS_MAX_UPLOAD_BYTES = len(data) - 1
    liar = SimpleUploadedFile("slice.png", data)
    liar.size = 10  # a client can declare any size
    with pytest.raises(ScanRejected, match="limit"):
        scan_ingest(owner=alice, uploaded_file=liar)
    assert Scan.objects.count() == 0 and media_files() == []


def test_the_default_size_limit_is_20_megabytes(settings):
    from neuroscan import settings as project_settings

    assert project_settings.SCANS_MAX_UPLOAD_BYTES == 20 * 1024 * 1024


# --- Bad input -----------------------------------------------------------------------------


def test_it_refuses_an_empty_file(refuses):
    refuses(b"", "empty")


def test_it_refuses_a_text_file_renamed_png(refuses):
    refuses(b"name,diagnosis\nJane,glioma\n" * 20, "not an image", name="report.png")


def test_it_refuses_a_pdf_renamed_dcm(refuses):
    refuses(b"%PDF-1.7\n" + b"0" * 400, "not an image", name="scan.dcm")


@pytest.mark.parametrize("pillow_format", ["PNG", "JPEG", "BMP", "TIFF"])
def test_it_refuses_a_truncated_image(refuses, pillow_format):
    data = image_bytes(pillow_format, width=200, height=200)
    refuses(data[: len(data) // 2], "damaged or incomplete")


def test_it_refuses_garbage_after_a_valid_signature(refuses):
    refuses(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 50, "damaged or incomplete")


@pytest.mark.parametrize(("pixels_over_cap", "accepted"), [(-1, True), (0, True), (1, False)])
def test_it_applies_the_pixel_cap(settings, alice, sent_tasks, refuses, pixels_over_cap, accepted):
    data = image_bytes(width=96, height=80)
    settings.SCANS_MAX_PIXELS = 96 * 80 - pixels_over_cap
    if accepted:
        assert _ingest(alice, data).width == 96
    else:
        refuses(data, "too large")


def test_it_refuses_a_decompression_bomb_before_decoding_it(refuses):
    buffer = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(buffer, format="PNG")  # 144 M pixels in a few kB
    assert len(buffer.getvalue()) < 100_000
    refuses(buffer.getvalue(), "too large")


def test_pillows_own_bomb_guard_stays_on_behind_the_portal_cap(monkeypatch):
    # The decoder itself: uploads run it in the sandbox's forked child, which a monkeypatch here cannot reach.
    from scans.images import decode_upload

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow's, lowered to reach it with a small file
    with pytest.raises(ScanRejected, match="too large"):
        decode_upload(image_bytes(width=96, height=80), max_pixels=10**12)  # the portal's cap out of the way


def test_it_refuses_a_multi_frame_tiff(refuses):
    frames = [Image.fromarray(np.full((32, 32), value, np.uint8)) for value in (10, 200)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:])
    refuses(buffer.getvalue(), "one 2-D slice")


def test_it_refuses_an_animated_png(refuses):
    frames = [Image.fromarray(np.full((32, 32), value, np.uint8)) for value in (10, 200)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="PNG", save_all=True, append_images=frames[1:])
    refuses(buffer.getvalue(), "one 2-D slice")


# --- DICOM -------------------------------------------------------------------------------------


def test_it_accepts_a_dicom_slice_and_windows_it_to_8_bits(alice, sent_tasks):
    scan = _ingest(alice, dicom_bytes(with_phi=False), "IM0001")
    assert scan.format == "dicom" and scan.deidentified is True
    assert (scan.width, scan.height) == (64, 48)
    display = np.asarray(Image.open(scan.display.open("rb")))
    assert display.dtype == np.uint8 and display.max() > 200 and display.min() < 50


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "MR_small_jpeg_ls_lossless.dcm", "JPEG2000.dcm"])
def test_it_reads_pydicoms_bundled_slices_including_compressed_ones(alice, sent_tasks, name):
    scan = _ingest(alice, bundled_dicom(name, modality="MR"), name)  # their codecs, as MR slices
    assert scan.format == "dicom" and scan.deidentified


def test_a_real_ct_file_is_refused_by_its_header(refuses):
    refuses(bundled_dicom("CT_small.dcm"), r"This DICOM file is a CT image \(Modality CT\), not a brain MRI", name="ct.dcm")


def test_it_refuses_dicom_without_pixel_data(refuses):
    refuses(bundled_dicom("rtplan.dcm"), "no pixel data", name="plan.dcm")


def test_it_refuses_a_multi_frame_dicom(refuses):
    refuses(dicom_bytes(frames=3), "upload the file as a study", name="volume.dcm")


def test_it_refuses_dicom_without_the_part_10_preamble(refuses):
    # pydicom could guess at such bytes with force=True; an upload is never read that way.
    headless = dicom_bytes()[132:]
    assert headless[128:132] != b"DICM"
    refuses(headless, "not an image", name="raw.dcm")


def test_it_refuses_a_transfer_syntax_it_cannot_decode(refuses):
    from pydicom.encaps import encapsulate

    dataset = dicom_dataset()
    dataset.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"  # MPEG2 video: no decoder here
    dataset.PixelData = encapsulate([b"\x00\x00\x01\xb3" + b"\x00" * 60])
    dataset["PixelData"].is_undefined_length = True
    dataset["PixelData"].VR = "OB"
    refuses(dicom_bytes(dataset), "cannot be decoded", name="video.dcm")


def test_it_refuses_a_truncated_dicom(refuses):
    data = dicom_bytes()
    refuses(data[: len(data) - 3000], "damaged or incomplete", name="cut.dcm")


def test_it_refuses_a_dicom_bomb_by_its_header(settings, refuses):
    dataset = dicom_dataset()
    dataset.Rows, dataset.Columns = 60000, 60000  # claims 3.6 G pixels
    refuses(dicom_bytes(dataset), "too large", name="bomb.dcm")


# --- Quota: below, equal, above ------------------------------------------------------------------


def test_it_enforces_the_hourly_quota(settings, alice, bob, sent_tasks):
    settings.SCANS_UPLOADS_PER_HOUR = 2
    _ingest(alice, image_bytes())  # 1 of 2
    _ingest(alice, image_bytes())  # 2 of 2: equal to the quota is still allowed
    before = len(media_files())
    with pytest.raises(ScanRejected, match="Too many uploads") as raised:
        _ingest(alice, image_bytes())
    assert raised.value.code == "quota"
    assert Scan.objects.filter(owner=alice).count() == 2 and len(media_files()) == before
    _ingest(bob, image_bytes())  # one user's quota is not another's


def test_the_quota_counts_only_the_last_hour(settings, alice, sent_tasks):
    from datetime import timedelta

    from django.utils import timezone

    settings.SCANS_UPLOADS_PER_HOUR = 1
    old = _ingest(alice, image_bytes())
    Scan.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=61))
    assert _ingest(alice, image_bytes()).status == ScanStatus.QUEUED


def test_a_failing_insert_leaves_no_files(alice, sent_tasks, monkeypatch):
    def broken_save(self, *args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Scan, "save", broken_save)
    with pytest.raises(RuntimeError):
        _ingest(alice, image_bytes())
    assert media_files() == [] and sent_tasks == []
