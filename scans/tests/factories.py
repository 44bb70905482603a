"""Test inputs made in the test: images in every accepted format, DICOM files full of made-up PHI, fakes."""

import io
import itertools
from dataclasses import dataclass, field

import numpy as np
import pydicom
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

from ml import wording

# Made-up identifying values planted in test DICOM files; none may be found anywhere after ingest.
PHI = {
    "PatientName": "Doe^Jane^Quinlan",
    "PatientID": "MRN-7734519",
    "PatientBirthDate": "19610817",
    "PatientAddress": "42 Wallaby Way, Sydney",
    "InstitutionName": "Saint Exemplar Hospital",
    "ReferringPhysicianName": "Hibbert^Julius",
    "OperatorsName": "Nurse^Ratched",
    "AccessionNumber": "ACC99887766",
    "StudyDescription": "BRAIN MRI JANE DOE FOLLOW-UP",
    "InstitutionAddress": "1 Hospital Road, Springfield",
    "StationName": "SPRINGFIELD-MR1",
}
PRIVATE_PHI = "Private note: Jane Doe, mobile 0400 123 456"
PHI_STRINGS = [*PHI.values(), PRIVATE_PHI, "Doe^Jane", "MRN-7734519", "Saint Exemplar", "Ratched", "0400 123 456"]


def slice_pixels(width: int = 96, height: int = 80) -> np.ndarray:
    """A brain-like grey slice: a bright ellipse with some texture, uint8 (H, W)."""
    yy, xx = np.mgrid[0:height, 0:width]
    ellipse = ((xx - width / 2) / (width * 0.4)) ** 2 + ((yy - height / 2) / (height * 0.42)) ** 2 <= 1
    rng = np.random.default_rng(7)
    pixels = np.where(ellipse, 120 + rng.integers(0, 80, (height, width)), 5)
    return pixels.astype(np.uint8)


_serial = itertools.count(1)


def image_bytes(fmt: str = "PNG", *, width: int = 96, height: int = 80, mode: str = "L") -> bytes:
    """A slice in `fmt`; each call's bytes differ (two background pixels count calls), so that two uploads
    in one test are two scans, not one file sent twice (which ingest answers with the first scan)."""
    pixels = slice_pixels(width, height)
    serial = next(_serial)
    pixels[0, 0], pixels[0, 1] = serial % 256, (serial // 256) % 256
    image = Image.fromarray(pixels).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def upload_file(data: bytes, name: str = "slice.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def dicom_dataset(*, width: int = 64, height: int = 48, with_phi: bool = True, frames: int = 1) -> Dataset:
    """An uncompressed MR slice in a Part-10 file, carrying made-up PHI in public and private tags."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.SourceApplicationEntityTitle = "SPRINGFIELD"
    ds = Dataset()
    ds.file_meta = meta
    ds.preamble = b"\x00" * 128
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "MR"
    ds.StudyDate = "20240102"
    if with_phi:
        for keyword, value in PHI.items():
            setattr(ds, keyword, value)
        block = ds.private_block(0x0011, "SPRINGFIELD PRIVATE", create=True)
        block.add_new(0x01, "LO", PRIVATE_PHI[:64])
        block.add_new(0x02, "LT", PRIVATE_PHI)
        nested = Dataset()
        nested.PatientName = PHI["PatientName"]
        nested.ReferencedSOPInstanceUID = generate_uid()
        ds.ReferencedStudySequence = [nested]
        ds.RequestAttributesSequence = [nested]
        ds.ImageComments = "Patient Jane Doe, MRN-7734519"
    ds.Rows, ds.Columns = height, width
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    ds.RescaleSlope, ds.RescaleIntercept = 1, 0
    ds.WindowCenter, ds.WindowWidth = 600, 1200
    pixels = (slice_pixels(width, height).astype(np.uint16) * 16)
    if frames > 1:
        ds.NumberOfFrames = frames
        pixels = np.stack([pixels] * frames)
    ds.PixelData = pixels.tobytes()
    return ds


def dicom_bytes(dataset: Dataset | None = None, **kwargs) -> bytes:
    dataset = dataset if dataset is not None else dicom_dataset(**kwargs)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def bundled_dicom(name: str, *, modality: str | None = None) -> bytes:
    """A file bundled with pydicom (no download): only names listed in pydicom/data/test_files.

    modality relabels it (e.g. pydicom's JPEG 2000 sample is nuclear medicine, which the portal refuses
    by its header): its codec and attributes stay as they are."""
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name, download=False)
    assert path, f"{name} is not bundled with pydicom"
    data = open(path, "rb").read()
    if modality is None:
        return data
    dataset = pydicom.dcmread(io.BytesIO(data))
    dataset.Modality = modality
    return dicom_bytes(dataset)


@dataclass
class FakeResult:
    label: str = "glioma"
    probabilities: dict = field(default_factory=lambda: {"glioma": 0.7, "meningioma": 0.1, "notumor": 0.1, "pituitary": 0.1})
    confidence: float = 0.7
    abstained: bool = False
    abstain_reason: str | None = None
    model_version: str = "fake-1"
    timings_ms: dict = field(default_factory=lambda: {"total": 12.0})
    abstain_kind: str | None = None
    technical_detail: str = ""

    @property
    def refused_as_not_mri(self) -> bool:  # as ml.inference.ClassificationResult
        return self.abstain_kind == wording.NOT_MRI


def unsure_result(**kwargs) -> FakeResult:
    """What ml answers when its top class is not certain enough."""
    probabilities = {"glioma": 0.51, "meningioma": 0.40, "notumor": 0.05, "pituitary": 0.04}
    return FakeResult(**{"label": "glioma", "probabilities": probabilities, "confidence": 0.51, "abstained": True,
                         "abstain_kind": "unsure", "abstain_reason": wording.unsure_reason(probabilities),
                         "technical_detail": "Calibrated top probability 0.510 < abstain threshold 0.940.", **kwargs})  # fmt: skip


def refused_result(**kwargs) -> FakeResult:
    """What ml answers for an image that is not a brain MRI: a refusal, whatever its argmax says."""
    probabilities = {"glioma": 0.03, "meningioma": 0.91, "notumor": 0.03, "pituitary": 0.03}
    return FakeResult(**{"label": "meningioma", "probabilities": probabilities, "confidence": 0.91, "abstained": True,
                         "abstain_kind": "not_mri", "abstain_reason": wording.not_mri_reason(),
                         "technical_detail": "Feature distance 29.2 > out-of-distribution threshold 24.4.", **kwargs})  # fmt: skip


@dataclass
class FakeExplanation:
    class_name: str
    heatmap: np.ndarray
    overlay: np.ndarray


class FakeClassifier:
    """Stands in for ml's classifier in service tests (the real model runs in the worker tests)."""

    model_version = "fake-1"

    def __init__(self, result: FakeResult | None = None, error: Exception | None = None) -> None:
        self.result = result or FakeResult()
        self.error = error
        self.calls = 0

    def analyse(self, image: np.ndarray):
        self.calls += 1
        if self.error:
            raise self.error
        if self.result.refused_as_not_mri:  # as ml does: no heat map for a refusal
            return self.result, None
        return self.result, self._explanation(image)

    def explain(self, image: np.ndarray, class_name: str | None = None):
        self.calls += 1
        return self._explanation(image, class_name)

    def _explanation(self, image: np.ndarray, class_name: str | None = None):
        height, width = image.shape[:2]
        overlay = np.zeros((height, width, 3), np.uint8)
        overlay[..., 0] = 200
        return FakeExplanation(class_name or self.result.label, np.zeros((height, width), np.float32), overlay)


def make_scan(owner, *, data: bytes | None = None, name: str = "slice.png", patient_reference: str = ""):
    """A queued scan, through the real ingest service (its task is not sent: no on_commit in db tests)."""
    from scans.services import scan_ingest

    return scan_ingest(owner=owner, uploaded_file=upload_file(data or image_bytes(), name), patient_reference=patient_reference)


def make_done_scan(owner, *, result: FakeResult | None = None, **kwargs):
    from scans.services import scan_analyse

    scan = make_scan(owner, **kwargs)
    assert scan_analyse(scan_id=scan.id, classifier_factory=lambda: FakeClassifier(result)) == "done"
    scan.refresh_from_db()
    return scan
