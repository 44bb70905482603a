"""study_ingest: a DICOM series (files or a zip) or a NIfTI volume becomes a study of ordered, de-identified slices."""

import io
import json
import math

import numpy as np
import pydicom
import pytest
from django.core.management import call_command
from pydicom.uid import generate_uid

from scans.images import read_display_png
from scans.models import Scan, ScanStatus
from scans.tests.conftest import media_files
from scans.tests.factories import PHI, PHI_STRINGS, dicom_bytes, dicom_dataset
from studies.errors import StudyRejected
from studies.identity import keyed_hash
from studies.models import Series, Study, StudySlice, StudySource, StudyStatus
from studies.services import study_ingest
from studies.tests.factories import (
    SERIES_DESCRIPTION,
    dicom_series,
    enhanced_mr,
    nifti_upload,
    nifti_volume,
    uploads,
    zip_upload,
)

pytestmark = pytest.mark.django_db


def _slices(study: Study) -> list[StudySlice]:
    return list(StudySlice.objects.filter(series__study=study).select_related("scan", "series").order_by("series__number", "position"))


def _everything_kept() -> bytes:
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue().encode() + b"".join(path.read_bytes() for path in media_files())


def test_it_stores_a_shuffled_series_in_anatomical_order(alice, sent_tasks, django_capture_on_commit_callbacks):
    files = dicom_series(6)
    with django_capture_on_commit_callbacks(execute=True):
        study = study_ingest(owner=alice, files=uploads(files))
    assert study.source == StudySource.DICOM and study.status == StudyStatus.ANALYSING and study.owner == alice
    series = Series.objects.get(study=study)
    slices = _slices(study)
    # Feet to head by Image Position (Patient), although names and instance numbers run the other way.
    assert [s.location_mm for s in slices] == sorted(z for _name, _data, z in files)
    assert [s.position for s in slices] == list(range(6))
    assert [s.instance_number for s in slices] == [6, 5, 4, 3, 2, 1]
    assert series.description == SERIES_DESCRIPTION
    assert series.parameters == {"echo_time_ms": 120.0, "repetition_time_ms": 9000.0, "inversion_time_ms": 2500.0,
                                 "slice_thickness_mm": 5.0, "pixel_spacing_mm": [0.9, 0.9]}  # fmt: skip
    for item in slices:
        assert item.scan.status == ScanStatus.QUEUED and item.scan.format == "dicom" and item.scan.deidentified
        assert item.scan.owner == alice
    # One message per slice, in order: the slice's analysis and then the study's finish check, in one task.
    assert [task["args"] for task in sent_tasks] == [[str(item.scan.id), str(study.id)] for item in slices]
    assert {task["task"] for task in sent_tasks} == {"studies.analyse_slice"}
    # All recorded as on their way, so that the sweep leaves them alone.
    assert all(item.scan.enqueued_at is not None for item in slices)


def test_it_keeps_only_keyed_hashes_of_the_uids_and_no_phi(alice, sent_tasks, caplog):
    study_uid, series_uid = generate_uid(), generate_uid()
    files = dicom_series(3, study_uid=study_uid, series_uid=series_uid)
    study = study_ingest(owner=alice, files=uploads(files))
    series = Series.objects.get(study=study)
    assert study.study_uid_hash == keyed_hash(study_uid, purpose="study-uid") and len(study.study_uid_hash) == 64
    assert series.series_uid_hash == keyed_hash(series_uid, purpose="series-uid")
    kept = _everything_kept() + "\n".join(record.getMessage() for record in caplog.records).encode()
    for needle in [*PHI_STRINGS, study_uid, series_uid]:
        assert needle.encode() not in kept, f"{needle!r} was kept"
    # The stored files are the de-identified ones: new UIDs, no patient.
    stored = pydicom.dcmread(io.BytesIO(_slices(study)[0].scan.file.read()))
    assert stored.PatientIdentityRemoved == "YES" and stored.StudyInstanceUID != study_uid
    # The same new Study and Series UIDs in every stored file: a viewer still sees one series.
    stored_all = [pydicom.dcmread(io.BytesIO(item.scan.file.read())) for item in _slices(study)]
    assert len({(ds.StudyInstanceUID, ds.SeriesInstanceUID) for ds in stored_all}) == 1


def test_the_hash_depends_on_the_portals_key(settings):
    first = keyed_hash("1.2.3", purpose="study-uid")
    settings.STUDIES_UID_HASH_KEY = "another key of at least thirty-two characters"
    assert keyed_hash("1.2.3", purpose="study-uid") != first
    assert keyed_hash("1.2.3", purpose="series-uid") != keyed_hash("1.2.3", purpose="study-uid")


def test_a_zip_with_folders_and_two_series_makes_one_study_of_two_series(alice, sent_tasks, django_capture_on_commit_callbacks):
    study_uid = generate_uid()
    t1 = dicom_series(3, study_uid=study_uid, series_number=2, description="AX T1")
    flair = dicom_series(4, study_uid=study_uid, series_number=5)
    entries = [(f"EXPORT/FLAIR/{name}", data) for name, data, _z in flair] + [(f"EXPORT/T1/{name}", data) for name, data, _z in t1]
    entries.append(("__MACOSX/EXPORT/._IM0001.dcm", b"junk"))
    with django_capture_on_commit_callbacks(execute=True):
        study = study_ingest(owner=alice, files=[zip_upload(entries, name="exam.zip")])
    series = list(Series.objects.filter(study=study))
    assert [(s.number, s.description, s.slices.count()) for s in series] == [(1, "AX T1", 3), (2, SERIES_DESCRIPTION, 4)]
    assert study.original_name == "exam.zip" and study.skipped == []
    assert len(sent_tasks) == 7


def test_a_partly_bad_series_keeps_its_good_slices_and_lists_the_bad_ones(alice, sent_tasks):
    files = dicom_series(4)
    truncated = files[0][1][:400]
    entries = [(name, data) for name, data, _z in files[1:]] + [("IM9999.dcm", truncated), ("notes.txt", b"Jane Doe scan notes")]
    study = study_ingest(owner=alice, files=[zip_upload(entries)])
    assert len(_slices(study)) == 3
    problems = {item["name"]: item["error"] for item in study.skipped}
    assert set(problems) == {"IM9999.dcm", "notes.txt"}
    assert "cut short" in problems["IM9999.dcm"] and "Not a DICOM file" in problems["notes.txt"]


def test_ct_slices_in_an_mri_upload_are_skipped_by_their_header(alice, sent_tasks):
    files = dicom_series(3)
    ct = pydicom.dcmread(io.BytesIO(files[0][1]))
    ct.Modality = "CT"
    ct.SOPInstanceUID = generate_uid()
    buffer = io.BytesIO()
    ct.save_as(buffer, enforce_file_format=True)
    study = study_ingest(owner=alice, files=[zip_upload([(name, data) for name, data, _z in files] + [("CT0001.dcm", buffer.getvalue())])])
    assert len(_slices(study)) == 3
    assert study.skipped == [{"name": "CT0001.dcm", "error": "This DICOM file is a CT image (Modality CT), not a brain MRI: NeuroScan reads MRI only. Skipped."}]


def test_a_ct_series_alone_is_refused_and_nothing_is_stored(alice, sent_tasks):
    files = []
    for name, data, _z in dicom_series(2):
        dataset = pydicom.dcmread(io.BytesIO(data))
        dataset.Modality = "CT"
        buffer = io.BytesIO()
        dataset.save_as(buffer, enforce_file_format=True)
        files.append((name, buffer.getvalue()))
    with pytest.raises(StudyRejected) as refused:
        study_ingest(owner=alice, files=[zip_upload(files)])
    assert all("a CT image" in problem.error for problem in refused.value.files) and len(refused.value.files) == 2
    _assert_nothing_stored()


def test_unsafe_members_are_skipped_each_with_its_reason(alice, sent_tasks):
    files = dicom_series(2)
    good = [(name, data) for name, data, _z in files]
    inner = zip_upload(good).read()
    entries = good + [("../../etc/evil.dcm", files[0][1]), ("/abs/evil.dcm", files[0][1]), ("inner.zip", inner),
                      ("renamed.dcm", inner), ("picture.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64)]  # fmt: skip
    study = study_ingest(owner=alice, files=[zip_upload(entries, symlinks={"link.dcm": "/etc/passwd"})])
    assert len(_slices(study)) == 2
    problems = {item["name"]: item["error"] for item in study.skipped}
    assert "outside the archive" in problems["../../etc/evil.dcm"] and "outside the archive" in problems["/abs/evil.dcm"]
    assert "archive inside the archive" in problems["inner.zip"] and "archive inside the archive" in problems["renamed.dcm"]
    assert "symbolic link" in problems["link.dcm"]
    assert "not a DICOM slice" in problems["picture.png"]


def _assert_nothing_stored():
    assert not Study.objects.exists() and not Scan.objects.exists() and not Series.objects.exists()
    assert media_files() == []


def test_mixed_patients_are_refused_and_nothing_is_stored(alice, sent_tasks):
    study_uid = generate_uid()
    files = dicom_series(2, study_uid=study_uid) + dicom_series(2, study_uid=study_uid, patient_id="MRN-0000001")
    with pytest.raises(StudyRejected) as refused:
        study_ingest(owner=alice, files=[zip_upload([(f"{i}.dcm", data) for i, (_n, data, _z) in enumerate(files)])])
    assert "2 different patients" in refused.value.message and "Nothing was stored" in refused.value.message
    _assert_nothing_stored()
    assert sent_tasks == []


def test_two_examinations_in_one_upload_are_refused(alice, sent_tasks):
    files = dicom_series(2) + dicom_series(2)
    with pytest.raises(StudyRejected, match="2 different examinations"):
        study_ingest(owner=alice, files=uploads(files))
    _assert_nothing_stored()


def test_an_upload_with_no_usable_image_is_refused_with_each_files_reason(alice, sent_tasks):
    cut = dicom_dataset(frames=3)
    cut.PixelData = cut.PixelData[:100]  # far less than three frames
    with pytest.raises(StudyRejected) as refused:
        study_ingest(owner=alice, files=[zip_upload([("a.txt", b"hello"), ("b.dcm", dicom_bytes(cut))])])
    assert {problem.name for problem in refused.value.files} == {"a.txt", "b.dcm"}
    _assert_nothing_stored()


@pytest.mark.parametrize("count, accepted", [(2, True), (3, True), (4, False)])
def test_the_number_of_files_is_limited(alice, sent_tasks, settings, count, accepted):
    settings.STUDIES_MAX_FILES = 3
    files = uploads(dicom_series(count))
    if accepted:
        assert len(_slices(study_ingest(owner=alice, files=files))) == count
    else:
        with pytest.raises(StudyRejected) as refused:
            study_ingest(owner=alice, files=files)
        assert refused.value.code == "too_large" and "at most 3" in refused.value.message
        _assert_nothing_stored()


def test_the_number_of_files_in_a_zip_is_limited(alice, sent_tasks, settings):
    settings.STUDIES_MAX_FILES = 3
    entries = [(name, data) for name, data, _z in dicom_series(4)]
    with pytest.raises(StudyRejected, match="holds 4 files"):
        study_ingest(owner=alice, files=[zip_upload(entries)])
    _assert_nothing_stored()


@pytest.mark.parametrize("count, accepted", [(3, True), (4, False)])
def test_the_number_of_slices_is_limited(alice, sent_tasks, settings, count, accepted):
    settings.STUDIES_MAX_SLICES = 3
    files = uploads(dicom_series(count))
    if accepted:
        assert len(_slices(study_ingest(owner=alice, files=files))) == 3
    else:
        with pytest.raises(StudyRejected, match="holds 4 slices"):
            study_ingest(owner=alice, files=files)
        _assert_nothing_stored()


def test_a_zip_bomb_is_refused_before_it_is_unpacked(alice, sent_tasks, settings):
    settings.STUDIES_MAX_UNCOMPRESSED_BYTES = 4 * 1024 * 1024
    settings.SCANS_MAX_UPLOAD_BYTES = 64 * 1024 * 1024
    # 100 members of 1 MB of zeros each: about 100 KB compressed, 100 MB unpacked (built here, never committed).
    zeros = bytes(1024 * 1024)
    upload = zip_upload([(f"slice{index:03d}.dcm", zeros) for index in range(100)])
    assert upload.size < 200 * 1024
    with pytest.raises(StudyRejected) as refused:
        study_ingest(owner=alice, files=[upload])
    assert refused.value.code == "too_large" and "unpacks to more than 4.0 MB" in refused.value.message
    _assert_nothing_stored()


def test_a_zip_member_whose_header_lies_about_its_size_is_refused(alice, sent_tasks, settings):
    settings.STUDIES_MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024
    data = bytearray(zip_upload([("big.dcm", bytes(3 * 1024 * 1024))]).read())
    # Patch the declared uncompressed size (local header at 22, central directory at 24 after its signature) to 1 KB.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        data[at + offset : at + offset + 4] = (1024).to_bytes(4, "little")
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(StudyRejected) as refused:
        study_ingest(owner=alice, files=[SimpleUploadedFile("lying.zip", bytes(data))])
    # Either bound stops it: the inflater's own size check (a damaged member), or ours.
    assert refused.value.code in ("too_large", "invalid")
    _assert_nothing_stored()


def test_a_gzip_bomb_posing_as_a_volume_is_refused(alice, sent_tasks, settings):
    import gzip

    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.STUDIES_MAX_UNCOMPRESSED_BYTES = 1024 * 1024
    bomb = gzip.compress(bytes(50 * 1024 * 1024))
    with pytest.raises(StudyRejected, match="unpacks to more than 1.0 MB"):
        study_ingest(owner=alice, files=[SimpleUploadedFile("brain.nii.gz", bomb)])
    _assert_nothing_stored()


def test_a_zip_among_several_files_is_skipped(alice, sent_tasks):
    files = uploads(dicom_series(2))
    files.append(zip_upload([("x.dcm", b"")], name="more.zip"))
    study = study_ingest(owner=alice, files=files)
    assert len(_slices(study)) == 2 and study.skipped[0]["name"] == "more.zip"


def test_the_study_quota_is_per_hour(alice, sent_tasks, settings):
    settings.STUDIES_UPLOADS_PER_HOUR = 1
    study_ingest(owner=alice, files=uploads(dicom_series(1)))
    with pytest.raises(StudyRejected) as refused:
        study_ingest(owner=alice, files=uploads(dicom_series(1)))
    assert refused.value.code == "quota" and Study.objects.count() == 1


def test_a_refusal_while_storing_leaves_no_file_behind(alice, sent_tasks, monkeypatch):
    import studies.services as services

    calls = []

    def failing_slice(*args, **kwargs):
        original = services.StudySlice.objects.create
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        return original(*args, **kwargs)

    monkeypatch.setattr(services.StudySlice.objects, "create", failing_slice)
    with pytest.raises(RuntimeError):
        study_ingest(owner=alice, files=uploads(dicom_series(4)))
    _assert_nothing_stored()


# --- NIfTI ----------------------------------------------------------------------------------------


def test_a_nifti_volume_becomes_axial_slices_in_radiological_orientation(alice, sent_tasks):
    # Stored as RAS+ (identity directions): voxel (x=11, y=9, z=5) is the patient's right, anterior, top.
    image = nifti_volume((12, 10, 6), marker=(11, 9, 5))
    study = study_ingest(owner=alice, files=[nifti_upload(image)])
    assert study.source == StudySource.NIFTI and study.study_uid_hash == ""
    slices = _slices(study)
    assert len(slices) == 6 and all(item.scan.format == "png" for item in slices)
    top = read_display_png(slices[-1].scan.display.read())
    assert top.shape == (10, 12)  # rows: y (anterior-posterior), columns: x (right-left)
    # Radiological display: anterior at the top, the patient's right on the viewer's left.
    assert np.unravel_index(np.argmax(top), top.shape) == (0, 0)
    assert Series.objects.get(study=study).parameters == {"pixel_spacing_mm": [2.0, 2.0], "slice_thickness_mm": 4.0}


def test_the_affine_decides_the_orientation_not_the_storage_order(alice, sent_tasks):
    # Stored left-to-right flipped and with z first: array axes (z, y, x) with x running right -> left.
    affine = np.array([[0, 0, -2.0, 0], [0, 2.0, 0, 0], [4.0, 0, 0, 0], [0, 0, 0, 1]])
    # Array index (k=5, j=9, i=0): z top, y anterior, x = -2*0 -> the right-most column.
    image = nifti_volume((6, 10, 12), affine=affine, marker=(5, 9, 0))
    study = study_ingest(owner=alice, files=[nifti_upload(image, gz=False, name="brain.nii")])
    slices = _slices(study)
    assert len(slices) == 6
    top = read_display_png(slices[-1].scan.display.read())
    assert top.shape == (10, 12) and np.unravel_index(np.argmax(top), top.shape) == (0, 0)


def test_a_four_dimensional_nifti_is_refused(alice, sent_tasks):
    import nibabel

    image = nibabel.Nifti1Image(np.ones((8, 8, 4, 3), dtype=np.float32), np.eye(4))
    with pytest.raises(StudyRejected, match="4-D"):
        study_ingest(owner=alice, files=[nifti_upload(image)])
    _assert_nothing_stored()


def test_a_nifti_with_too_many_slices_is_refused(alice, sent_tasks, settings):
    settings.STUDIES_MAX_SLICES = 5
    with pytest.raises(StudyRejected, match="6 axial slices"):
        study_ingest(owner=alice, files=[nifti_upload(nifti_volume((12, 10, 6)))])
    _assert_nothing_stored()


def test_phi_in_the_nifti_header_is_not_kept(alice, sent_tasks):
    image = nifti_volume()
    image.header["descrip"] = PHI["PatientName"].encode()
    image.header["aux_file"] = b"MRN-7734519"
    study = study_ingest(owner=alice, files=[nifti_upload(image)])
    kept = _everything_kept()
    assert b"Doe^Jane" not in kept and b"MRN-7734519" not in kept
    assert json.dumps(Series.objects.get(study=study).parameters)


@pytest.mark.parametrize("compressed", [False, True], ids=["native", "rle"])
def test_a_multi_frame_file_becomes_a_series_of_single_frame_de_identified_slices(alice, sent_tasks, caplog, compressed):
    data, heights = enhanced_mr(5, compressed=compressed)
    study = study_ingest(owner=alice, files=uploads([("volume.dcm", data)]))
    slices = _slices(study)
    # Feet to head from each frame's own Plane Position, although the frames run head to feet.
    assert [s.location_mm for s in slices] == sorted(heights)
    assert [s.instance_number for s in slices] == [5, 4, 3, 2, 1]
    series = Series.objects.get(study=study)
    assert series.description == "AX T2 3D" and series.modality == "MR"
    assert series.parameters == {"echo_time_ms": 95.0, "repetition_time_ms": 5000.0, "flip_angle_deg": 90.0,
                                 "slice_thickness_mm": 4.0, "pixel_spacing_mm": [0.8, 0.8]}  # fmt: skip
    kept = _everything_kept() + "\n".join(record.getMessage() for record in caplog.records).encode()
    for needle in PHI_STRINGS:
        assert needle.encode() not in kept, f"{needle!r} was kept"
    stored_files = [pydicom.dcmread(io.BytesIO(item.scan.file.read())) for item in slices]
    # Still one series of one study, and five instances.
    assert len({(ds.StudyInstanceUID, ds.SeriesInstanceUID) for ds in stored_files}) == 1
    assert len({ds.SOPInstanceUID for ds in stored_files}) == 5
    for item, stored in zip(slices, stored_files):
        assert stored.PatientIdentityRemoved == "YES" and "NumberOfFrames" not in stored
        assert stored.pixel_array.shape == (48, 64) and "PerFrameFunctionalGroupsSequence" not in stored
        assert float(stored.ImagePositionPatient[2]) == item.location_mm


def test_a_multi_frame_file_beside_plain_slices_and_a_damaged_one(alice, sent_tasks, settings):
    data, _heights = enhanced_mr(3)
    short = dicom_dataset(frames=4)
    short.PixelData = short.PixelData[: len(short.PixelData) // 2]  # two frames' worth of four
    settings.STUDIES_MAX_SLICES = 10
    too_many, _ = enhanced_mr(11)
    study = study_ingest(owner=alice, files=uploads([("volume.dcm", data), ("short.dcm", dicom_bytes(short)), ("big.dcm", too_many)]))
    assert len(_slices(study)) == 3
    reasons = {problem["name"]: problem["error"] for problem in study.skipped}
    assert "damaged or incomplete" in reasons["short.dcm"]
    assert "11 frames" in reasons["big.dcm"] and "at most 10" in reasons["big.dcm"]


def test_a_deflate_bomb_among_the_files_is_skipped_before_it_is_inflated(alice, sent_tasks, settings):
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    bomb = dicom_dataset()
    block = bomb.private_block(0x0013, "BOMB", create=True)
    block.add_new(0x01, "OB", b"\x00" * (64 * 1024 * 1024))  # 64 MB of zeros: a file of a few hundred KB
    bomb.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    data = dicom_bytes(bomb)
    assert len(data) < 200_000
    settings.SCANS_MAX_PIXELS = 64 * 48  # a legal slice then inflates to about 1 MB
    files = dicom_series(2)
    study = study_ingest(owner=alice, files=uploads([*files, ("bomb.dcm", data)]))
    assert len(_slices(study)) == 2
    (problem,) = study.skipped
    assert problem["name"] == "bomb.dcm" and "expands to more than" in problem["error"]


AXIAL, CORONAL, SAGITTAL = [1, 0, 0, 0, 1, 0], [1, 0, 0, 0, 0, -1], [0, 1, 0, 0, 0, -1]


def _localiser(planes: list[tuple[list[float], list[float]]]) -> list[tuple[str, bytes]]:
    """One series (one Series Instance UID) of slices in the given (orientation, position) planes, as a scanner's localiser."""
    study_uid, series_uid, files = generate_uid(), generate_uid(), []
    for number, (orientation, position) in enumerate(planes, start=1):
        ds = dicom_dataset()
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SeriesNumber, ds.SeriesDescription = study_uid, series_uid, 1, "LOCALISER"
        ds.ImageOrientationPatient, ds.ImagePositionPatient, ds.InstanceNumber = orientation, position, number
        files.append((f"IM{number:04d}.dcm", dicom_bytes(ds)))
    return files


def test_a_three_plane_localiser_becomes_one_series_per_plane_each_in_its_own_order(alice, sent_tasks):
    planes = [(AXIAL, [0, 0, 10]), (CORONAL, [0, 5, 0]), (SAGITTAL, [-20, 0, 0]), (AXIAL, [0, 0, -10]),
              (CORONAL, [0, -5, 0]), (AXIAL, [0, 0, 0]), (SAGITTAL, [20, 0, 0])]  # fmt: skip
    study = study_ingest(owner=alice, files=uploads(_localiser(planes)))
    series = list(Series.objects.filter(study=study))
    assert [(s.number, s.description, s.slices.count()) for s in series] == [
        (1, "LOCALISER (axial)", 3), (2, "LOCALISER (coronal)", 2), (3, "LOCALISER (sagittal)", 2)]  # fmt: skip
    locations = {s.description: [item.location_mm for item in s.slices.order_by("position")] for s in series}
    # Each along its own normal: feet to head, front to back (y), and, for the sagittal, along x reversed (normal -x).
    assert locations == {"LOCALISER (axial)": [-10.0, 0.0, 10.0], "LOCALISER (coronal)": [-5.0, 5.0], "LOCALISER (sagittal)": [-20.0, 20.0]}
    assert sorted(item.instance_number for s in series for item in s.slices.all()) == list(range(1, 8))


def test_slices_tilted_a_few_degrees_stay_one_stack_and_one_series(alice, sent_tasks):
    tilt = math.radians(6)
    tilted = [1, 0, 0, 0, math.cos(tilt), math.sin(tilt)]
    study = study_ingest(owner=alice, files=uploads(_localiser([(AXIAL, [0, 0, 0]), (tilted, [0, 0, 5]), (AXIAL, [0, 0, 10])])))
    series = Series.objects.get(study=study)
    assert series.description == "LOCALISER" and series.slices.count() == 3


def test_a_multi_frame_file_of_two_stacks_becomes_two_series(alice, sent_tasks):
    from pydicom.dataset import Dataset

    data, _heights = enhanced_mr(4)
    dataset = pydicom.dcmread(io.BytesIO(data))
    for frame, y in zip(dataset.PerFrameFunctionalGroupsSequence[2:], (-8.0, 8.0)):  # the last two frames: a coronal stack
        orientation, position = Dataset(), Dataset()
        orientation.ImageOrientationPatient, position.ImagePositionPatient = CORONAL, [-100.0, y, 0.0]
        frame.PlaneOrientationSequence, frame.PlanePositionSequence = [orientation], [position]
    study = study_ingest(owner=alice, files=uploads([("volume.dcm", dicom_bytes(dataset))]))
    series = list(Series.objects.filter(study=study))
    assert [(s.description, s.slices.count()) for s in series] == [("AX T2 3D (axial)", 2), ("AX T2 3D (coronal)", 2)]
    coronal = [item.location_mm for item in series[1].slices.order_by("position")]
    assert coronal == [-8.0, 8.0]
