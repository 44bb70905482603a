"""Study inputs built in the test: DICOM series full of made-up PHI, zips of them (bombs too), NIfTI volumes."""

import gzip
import io
import random
import zipfile

import nibabel
import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile
from pydicom.uid import generate_uid

from scans.tests.factories import PHI, dicom_bytes, dicom_dataset

SERIES_DESCRIPTION = "AX T2 FLAIR"


def dicom_series(
    count: int = 5,
    *,
    study_uid: str | None = None,
    series_uid: str | None = None,
    series_number: int = 3,
    description: str = SERIES_DESCRIPTION,
    patient_id: str = PHI["PatientID"],
    spacing_mm: float = 5.0,
    shuffle: bool = True,
) -> list[tuple[str, bytes, float]]:
    """`count` axial slices of one series, as (file name, bytes, z in mm), in a shuffled order.

    File names and instance numbers run against the anatomy (instance 1 is the top slice), so an
    order taken from either would be wrong: only Image Position (Patient) gives feet-to-head.
    """
    study_uid = study_uid or generate_uid()
    series_uid = series_uid or generate_uid()
    files = []
    for index in range(count):
        ds = dicom_dataset()
        ds.PatientID = patient_id
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
        ds.SeriesNumber = series_number
        ds.SeriesDescription = description
        ds.EchoTime, ds.RepetitionTime, ds.InversionTime = 120.0, 9000.0, 2500.0
        ds.SliceThickness = spacing_mm
        ds.PixelSpacing = [0.9, 0.9]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        z = -40.0 + index * spacing_mm
        ds.ImagePositionPatient = [-120.0, -120.0, z]
        ds.InstanceNumber = count - index
        ds.SliceLocation = z
        files.append((f"IM{count - index:04d}.dcm", dicom_bytes(ds), z))
    if shuffle:
        random.Random(17).shuffle(files)
    return files


def uploads(files: list[tuple]) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(name, data, content_type="application/dicom") for name, data, *_ in files]


def zip_bytes(entries: list[tuple[str, bytes]], *, symlinks: dict[str, str] | None = None) -> bytes:
    """A zip of (member name, bytes); `symlinks` adds symbolic-link members (name -> target)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)
            archive.writestr(info, target)
    return buffer.getvalue()


def zip_upload(entries: list[tuple[str, bytes]], name: str = "study.zip", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, zip_bytes(entries, **kwargs), content_type="application/zip")


def nifti_volume(shape=(12, 10, 6), *, affine=None, marker=None) -> nibabel.Nifti1Image:
    """A small float volume: a soft gradient, plus a bright voxel at `marker` (array index), if given."""
    data = np.fromfunction(lambda i, j, k: 10 + i + 2 * j + 3 * k, shape, dtype=np.float32)
    if marker is not None:
        data[marker] = 1000.0
    return nibabel.Nifti1Image(data, affine if affine is not None else np.diag([2.0, 2.0, 4.0, 1.0]))


def nifti_bytes(image: nibabel.Nifti1Image, *, gz: bool = False) -> bytes:
    data = image.to_bytes()
    return gzip.compress(data) if gz else data


def nifti_upload(image: nibabel.Nifti1Image, *, gz: bool = True, name: str = "brain.nii.gz") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, nifti_bytes(image, gz=gz), content_type="application/gzip")


def dicom_series_from_pictures(paths, **kwargs) -> list[tuple[str, bytes, float]]:
    """A series like dicom_series, whose slices carry the pixels of real pictures (e.g. training MRI slices)."""
    import pydicom
    from PIL import Image

    files = dicom_series(len(paths), shuffle=False, **kwargs)
    out = []
    for (name, data, z), path in zip(files, paths):
        ds = pydicom.dcmread(io.BytesIO(data))
        pixels = np.asarray(Image.open(path).convert("L"), dtype=np.uint16) * 16
        ds.Rows, ds.Columns = pixels.shape
        ds.PixelData = pixels.tobytes()
        out.append((name, dicom_bytes(ds), z))
    random.Random(17).shuffle(out)
    return out


def enhanced_mr(frames: int = 5, *, spacing_mm: float = 4.0, compressed: bool = False) -> tuple[bytes, list[float]]:
    """One Enhanced MR file of `frames` axial frames, full of made-up PHI, and each frame's z in mm.

    The geometry and the echo time sit only in the functional groups, as scanners write them; the
    frames are stored head to feet, so frame order alone would put them upside down. `compressed`:
    RLE Lossless, one fragment per frame.
    """
    from pydicom.dataset import Dataset
    from pydicom.uid import EnhancedMRImageStorage, RLELossless

    ds = dicom_dataset(frames=frames)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = EnhancedMRImageStorage
    for keyword in ("WindowCenter", "WindowWidth", "RescaleSlope", "RescaleIntercept"):
        delattr(ds, keyword)
    ds.SeriesDescription = "AX T2 3D"
    shared = Dataset()
    measures, orientation, echo, timing = Dataset(), Dataset(), Dataset(), Dataset()
    measures.PixelSpacing, measures.SliceThickness = [0.8, 0.8], spacing_mm
    orientation.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    echo.EffectiveEchoTime = 95.0
    timing.RepetitionTime, timing.FlipAngle = 5000.0, 90.0
    shared.PixelMeasuresSequence, shared.PlaneOrientationSequence = [measures], [orientation]
    shared.MREchoSequence, shared.MRTimingAndRelatedParametersSequence = [echo], [timing]
    ds.SharedFunctionalGroupsSequence = [shared]
    heights = [20.0 - index * spacing_mm for index in range(frames)]  # head to feet
    per_frame = []
    for z in heights:
        item, position = Dataset(), Dataset()
        position.ImagePositionPatient = [-100.0, -100.0, z]
        item.PlanePositionSequence = [position]
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = per_frame
    if compressed:
        ds.compress(RLELossless, ds.pixel_array)
    return dicom_bytes(ds), heights
