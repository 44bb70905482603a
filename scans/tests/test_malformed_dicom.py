"""Malformed DICOM attributes end in a clear 400 refusal with nothing stored, on the page and the API; never a 500.

The fuzz test writes hostile values straight into the file (raw elements, as an attacker's tool
would), over the attributes that decoding and windowing read.
"""

import io
import random

import pytest
from django.urls import reverse
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.dataelem import DataElement
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.tag import Tag

from scans.errors import ScanRejected
from scans.images import DecodedImage, decode_upload
from scans.models import Scan
from scans.tests.conftest import media_files
from scans.tests.factories import dicom_bytes, dicom_dataset, upload_file

MAX_PIXELS = 25_000_000


def _with_raw(dataset: Dataset, keyword: str, raw: bytes) -> Dataset:
    """Put bytes as they are into an attribute: pydicom would refuse to write most of these values itself."""
    tag = Tag(tag_for_keyword(keyword))
    if len(raw) % 2:
        raw += b" "
    dataset[tag] = RawDataElement(tag, dictionary_VR(tag), len(raw), raw, 0, False, True)
    return dataset


def _lut(descriptor: list[int], entries: int) -> Dataset:
    item = Dataset()
    item.LUTDescriptor = descriptor
    item.add(DataElement(0x00283006, "US", list(range(entries))))
    return item


def _short_voi_lut() -> Dataset:
    dataset = dicom_dataset(with_phi=False)
    del dataset.WindowCenter, dataset.WindowWidth
    dataset.VOILUTSequence = [_lut([256, 0, 16], 3)]  # says 256 entries, holds 3
    return dataset


def _short_modality_lut() -> Dataset:
    dataset = dicom_dataset(with_phi=False)
    del dataset.RescaleSlope, dataset.RescaleIntercept
    item = _lut([4096, 0, 16], 3)
    item.ModalityLUTType = "US"
    dataset.ModalityLUTSequence = [item]
    return dataset


MALFORMED = {
    "RescaleSlope abc": (lambda: _with_raw(dicom_dataset(with_phi=False), "RescaleSlope", b"abc"), "RescaleSlope"),
    "RescaleSlope 0": (lambda: _with_raw(dicom_dataset(with_phi=False), "RescaleSlope", b"0"), "RescaleSlope"),
    "RescaleIntercept nan": (lambda: _with_raw(dicom_dataset(with_phi=False), "RescaleIntercept", b"nan"), "RescaleIntercept"),
    "WindowWidth 0": (lambda: _with_raw(dicom_dataset(with_phi=False), "WindowWidth", b"0"), "WindowWidth"),
    "WindowWidth abc": (lambda: _with_raw(dicom_dataset(with_phi=False), "WindowWidth", b"abc"), "WindowWidth"),
    "WindowCenter abc": (lambda: _with_raw(dicom_dataset(with_phi=False), "WindowCenter", b"abc"), "WindowCenter"),
    "short VOI LUT": (_short_voi_lut, "VOI LUT"),
    "short Modality LUT": (_short_modality_lut, "Modality LUT"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_it_refuses_each_malformed_attribute_by_name(case):
    build, named = MALFORMED[case]
    with pytest.raises(ScanRejected, match=named) as raised:
        decode_upload(dicom_bytes(build()), max_pixels=MAX_PIXELS)
    assert raised.value.code == "invalid"


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(MALFORMED))
def test_the_page_answers_400_and_stores_nothing(client, alice, sent_tasks, case):
    client.force_login(alice)
    data = dicom_bytes(MALFORMED[case][0]())
    response = client.post(reverse("scans:upload"), {"files": [upload_file(data, "IM0001.dcm")]})
    assert response.status_code == 400
    assert MALFORMED[case][1].encode() in response.content
    assert not Scan.objects.exists() and media_files() == [] and sent_tasks == []


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(MALFORMED))
def test_the_api_answers_400_and_stores_nothing(alice, sent_tasks, case):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(alice)
    data = dicom_bytes(MALFORMED[case][0]())
    response = api.post("/api/v1/scans/", {"file": [upload_file(data, "IM0001.dcm")]}, format="multipart")
    assert response.status_code == 400, response.content[:300]
    assert MALFORMED[case][1] in response.json()["files"][0]["error"]
    assert not Scan.objects.exists() and media_files() == [] and sent_tasks == []


# --- Fuzz --------------------------------------------------------------------------------------

FUZZED = ["Rows", "Columns", "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation", "SamplesPerPixel",
          "PhotometricInterpretation", "PlanarConfiguration", "NumberOfFrames", "RescaleSlope", "RescaleIntercept",
          "RescaleType", "WindowCenter", "WindowWidth", "VOILUTFunction", "BurnedInAnnotation", "PixelData",
          "TransferSyntaxUID"]  # fmt: skip
HOSTILE_TEXT = [b"", b"abc", b"0", b"-1", b"1e309", b"-1e309", b"nan", b"inf", b"65536", b"99999999999999999999",
                b"1\\2\\3", b"\\\\\\", b"\x00\x00", b"\xff\xfe", b"MONOCHROME3", b"YBR_FULL", b"PALETTE COLOR", b"SIGMOID",
                b"1.2.840.10008.1.2.4.50", b"1.2.840.10008.1.2.5", b"YES"]  # fmt: skip
HOSTILE_BINARY = [b"", b"\x00\x00", b"\xff\xff", b"\x00\x01\x00\x00", b"\xff\xff\xff\xff", b"\x01\x00" * 3]


def _hostile(rng: random.Random, keyword: str) -> bytes:
    vr = dictionary_VR(tag_for_keyword(keyword)) if keyword != "TransferSyntaxUID" else "UI"
    if keyword == "PixelData":
        return rng.choice([b"", b"\x00" * rng.randrange(0, 6200, 2), rng.randbytes(64 * 48 * 2)])
    if vr in ("US", "SS", "UL", "SL", "US or SS"):
        return rng.choice(HOSTILE_BINARY)
    return rng.choice(HOSTILE_TEXT)


def _fuzzed_file(rng: random.Random) -> bytes:
    dataset = dicom_dataset(with_phi=False)
    for keyword in rng.sample(FUZZED, rng.randint(1, 3)):
        raw = _hostile(rng, keyword)
        if keyword == "TransferSyntaxUID":
            dataset.file_meta.TransferSyntaxUID = raw.decode("latin-1").strip("\x00") or "1.2.840.10008.1.2.1"
            continue
        tag = Tag(tag_for_keyword(keyword))
        vr = dictionary_VR(tag)
        vr = {"US or SS": "US", "OB or OW": "OW", "US or SS or OW": "OW"}.get(vr, vr)
        if len(raw) % 2:
            raw += b" " if vr not in ("US", "SS", "UL", "SL", "OW", "OB") else b"\x00"
        dataset[tag] = RawDataElement(tag, vr, len(raw), raw, 0, False, True)
    try:
        return dicom_bytes(dataset)
    except Exception:
        return b""  # pydicom itself could not write this combination: not a file anyone can upload


def test_fuzzed_attributes_are_either_decoded_or_refused_never_an_error():
    rng = random.Random(18)
    outcomes = {"decoded": 0, "refused": 0}
    for _ in range(400):
        data = _fuzzed_file(rng)
        if not data:
            continue
        try:
            decoded = decode_upload(data, max_pixels=MAX_PIXELS)
        except ScanRejected as rejection:
            assert rejection.message and rejection.code in ("invalid", "too_large")
            outcomes["refused"] += 1
        else:
            assert isinstance(decoded, DecodedImage) and decoded.display.dtype.name == "uint8"
            assert decoded.display.ndim in (2, 3) and decoded.width > 0 and decoded.height > 0
            outcomes["decoded"] += 1
    assert outcomes["refused"] > 100 and outcomes["decoded"] > 10, outcomes
