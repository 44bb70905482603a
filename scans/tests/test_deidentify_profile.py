"""scans.deidentify: PS3.15 Table E.1-1 driven from data, one test per action code, and the allow-list."""

import io

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.tag import Tag
from pydicom.uid import generate_uid
from PIL import Image, PngImagePlugin

from scans.deidentify import ACTION_CODES, DEIDENTIFICATION_METHOD, SURVIVORS, action_code, deidentify
from scans.errors import ScanRejected
from scans.images import decode_upload
from scans.models import Scan
from scans.services import scan_ingest
from scans.tests.conftest import media_files
from scans.tests.factories import dicom_bytes, dicom_dataset, slice_pixels, upload_file


def _deidentified(**attributes) -> Dataset:
    dataset = dicom_dataset(with_phi=False)
    for keyword, value in attributes.items():
        setattr(dataset, keyword, value)
    deidentify(dataset)
    return dataset


def test_the_whole_table_is_loaded():
    assert len(ACTION_CODES) > 600  # Table E.1-1 lists some 650 attributes
    assert set(ACTION_CODES.values()) == {"X", "Z", "D", "U", "Z/D", "X/Z", "X/D", "X/Z/D", "X/Z/U*"}


@pytest.mark.parametrize(
    "keyword",
    ["VisitComments", "RequestedProcedureComments", "ImagingServiceRequestComments",
     "CommentsOnThePerformedProcedureStep", "AcquisitionDeviceProcessingDescription", "PerformedStationAETitle",
     "ScheduledStationAETitle"],
)  # fmt: skip
def test_the_attributes_the_review_found_are_removed(keyword):
    assert action_code(Tag(keyword)) is not None
    assert keyword not in _deidentified(**{keyword: "Jane Doe MRN-7734519"})


def test_x_removes():
    assert action_code(Tag("PatientAddress")) == "X"
    assert "PatientAddress" not in _deidentified(PatientAddress="42 Wallaby Way")


def test_z_keeps_the_attribute_empty():
    assert action_code(Tag("PatientName")) == "Z"
    stored = _deidentified(PatientName="Doe^Jane")
    assert "PatientName" in stored and stored.PatientName == ""


def test_d_replaces_with_a_dummy_of_the_same_vr():
    assert action_code(Tag("PersonName")) == "D"
    assert _deidentified(PersonName="Doe^Jane").PersonName == "ANONYMIZED"


def test_d_on_a_sequence_removes_it_with_its_text():
    assert action_code(Tag("ContentSequence")) == "D"
    item = Dataset()
    item.ValueType, item.TextValue = "TEXT", "Jane Doe MRN-7734519 seen on 2024-01-02"
    assert "ContentSequence" not in _deidentified(ContentSequence=[item])


def test_u_replaces_uids_consistently():
    assert action_code(Tag("StudyInstanceUID")) == "U" and action_code(Tag("ReferencedSOPInstanceUID")) == "U"
    dataset = dicom_dataset(with_phi=False)
    old_study, old_sop = dataset.StudyInstanceUID, dataset.SOPInstanceUID
    dataset.FrameOfReferenceUID = old_study  # the same old UID in two places
    deidentify(dataset)
    assert dataset.StudyInstanceUID != old_study and dataset.SOPInstanceUID != old_sop
    assert dataset.FrameOfReferenceUID == dataset.StudyInstanceUID
    assert dataset.file_meta.MediaStorageSOPInstanceUID == dataset.SOPInstanceUID


def test_files_of_one_series_keep_one_new_study_and_series_uid_and_the_key_decides_it(settings):
    first, second = dicom_dataset(with_phi=False), dicom_dataset(with_phi=False)
    second.StudyInstanceUID, second.SeriesInstanceUID = first.StudyInstanceUID, first.SeriesInstanceUID
    old_study = first.StudyInstanceUID
    deidentify(first)
    deidentify(second)
    assert first.StudyInstanceUID == second.StudyInstanceUID != old_study
    assert first.SeriesInstanceUID == second.SeriesInstanceUID
    assert first.SOPInstanceUID != second.SOPInstanceUID  # two instances stay two
    # Without the portal's key the mapping cannot be redone: another key gives other UIDs.
    settings.STUDIES_UID_HASH_KEY = "another-key-" + "x" * 32
    third = dicom_dataset(with_phi=False)
    third.StudyInstanceUID = old_study
    deidentify(third)
    assert third.StudyInstanceUID != first.StudyInstanceUID


def test_z_d_empties():
    assert action_code(Tag("PatientID")) == "Z/D"
    assert _deidentified(PatientID="MRN-7734519").PatientID == ""


@pytest.mark.parametrize(
    ("code", "keyword", "value"),
    [("X/Z", "AcquisitionDate", "20240102"), ("X/D", "ProtocolName", "JANE DOE BRAIN"),
     ("X/Z/D", "InstitutionName", "Saint Exemplar Hospital")],
)  # fmt: skip
def test_compound_codes_with_x_remove(code, keyword, value):
    assert action_code(Tag(keyword)) == code
    assert keyword not in _deidentified(**{keyword: value})


def test_x_z_u_star_removes_the_reference_sequence():
    assert action_code(Tag("SourceImageSequence")) == "X/Z/U*"
    item = Dataset()
    item.ReferencedSOPInstanceUID = generate_uid()
    assert "SourceImageSequence" not in _deidentified(SourceImageSequence=[item])


def test_masked_rows_reach_repeating_groups():
    assert action_code(0x60024000) == "X"  # (60xx,4000) Overlay Comments, in the second overlay group
    dataset = dicom_dataset(with_phi=False)
    dataset.add_new(0x60024000, "LT", "Jane Doe")
    deidentify(dataset)
    assert 0x60024000 not in dataset


def test_attributes_outside_the_table_survive_only_on_the_allow_list():
    assert action_code(Tag("SoftwareVersions")) is None and "SoftwareVersions" not in SURVIVORS
    assert action_code(Tag("RepetitionTime")) is None and "RepetitionTime" in SURVIVORS
    stored = _deidentified(SoftwareVersions="built by Jane Doe", RepetitionTime=500, EchoTime=12)
    assert "SoftwareVersions" not in stored
    assert float(stored.RepetitionTime) == 500 and float(stored.EchoTime) == 12
    assert stored.Rows == 48 and stored.Columns == 64 and stored.Modality == "MR"


def test_every_survivor_is_outside_the_table():
    """An allow-listed attribute the table names would be handled twice; the table wins, so keep them apart."""
    assert [keyword for keyword in SURVIVORS if action_code(Tag(keyword)) is not None] == []


def test_the_method_and_the_profile_are_recorded():
    stored = _deidentified()
    assert stored.PatientIdentityRemoved == "YES"
    assert stored.DeidentificationMethod == DEIDENTIFICATION_METHOD and "E.1-1" in DEIDENTIFICATION_METHOD
    assert len(DEIDENTIFICATION_METHOD) <= 64
    (code,) = stored.DeidentificationMethodCodeSequence
    assert (code.CodeValue, code.CodingSchemeDesignator) == ("113100", "DCM")


def test_burned_in_annotation_is_refused():
    dataset = dicom_dataset(with_phi=False)
    dataset.BurnedInAnnotation = "YES"
    with pytest.raises(ScanRejected, match="burned-in annotation"):
        decode_upload(dicom_bytes(dataset), max_pixels=25_000_000)
    dataset.BurnedInAnnotation = "NO"
    assert decode_upload(dicom_bytes(dataset), max_pixels=25_000_000).deidentified


@pytest.mark.parametrize(("modality", "named"), [("CT", "a CT image"), ("DX", "an X-ray"), ("US", "an ultrasound image"), ("XYZ", "not an MR image")])
def test_a_dicom_of_another_modality_is_refused_by_its_header(modality, named):
    dataset = dicom_dataset(with_phi=False)
    dataset.Modality = modality
    with pytest.raises(ScanRejected) as refused:
        decode_upload(dicom_bytes(dataset), max_pixels=25_000_000)
    assert refused.value.message == f"This DICOM file is {named} (Modality {modality}), not a brain MRI: NeuroScan reads MRI only."


@pytest.mark.parametrize("modality", ["MR", "OT", "mr ", None])
def test_mr_other_and_a_missing_modality_are_read_and_left_to_the_model(modality):
    dataset = dicom_dataset(with_phi=False)
    if modality is None:
        del dataset.Modality
    else:
        dataset.Modality = modality
    assert decode_upload(dicom_bytes(dataset), max_pixels=25_000_000).deidentified


# --- Nothing of it at rest ----------------------------------------------------------------------

NEEDLES = [b"Jane Doe", b"JANE DOE", b"MRN-7734519", b"Doe^Jane", b"SPRINGFIELD"]


def _at_rest() -> bytes:
    return b"".join(path.read_bytes() for path in media_files())


@pytest.mark.django_db
def test_the_stored_dicom_keeps_none_of_the_reviewed_text(alice, sent_tasks):
    dataset = dicom_dataset()
    for keyword in ("VisitComments", "RequestedProcedureComments", "ImagingServiceRequestComments",
                    "CommentsOnThePerformedProcedureStep", "AcquisitionDeviceProcessingDescription"):  # fmt: skip
        setattr(dataset, keyword, "Jane Doe MRN-7734519")
    dataset.PerformedStationAETitle = dataset.ScheduledStationAETitle = "SPRINGFIELD"
    item = Dataset()
    item.ValueType, item.TextValue = "TEXT", "Report: Jane Doe MRN-7734519"
    dataset.ContentSequence = [item]
    scan = scan_ingest(owner=alice, uploaded_file=upload_file(dicom_bytes(dataset), "IM1"))
    assert scan.deidentified
    for needle in NEEDLES:
        assert needle not in _at_rest(), needle


@pytest.mark.django_db
@pytest.mark.parametrize(("keyword", "value", "match"), [("BurnedInAnnotation", "YES", "burned-in"), ("Modality", "CT", "a CT image")])
def test_a_burned_in_or_ct_dicom_is_refused_and_nothing_is_stored(alice, sent_tasks, keyword, value, match):
    dataset = dicom_dataset()
    setattr(dataset, keyword, value)
    with pytest.raises(ScanRejected, match=match):
        scan_ingest(owner=alice, uploaded_file=upload_file(dicom_bytes(dataset), "IM1"))
    assert not Scan.objects.exists() and media_files() == [] and sent_tasks == []


def _png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Patient", "Patient: Jane Doe MRN-7734519")
    info.add_itxt("Comment", "Doe^Jane", lang="en")
    buffer = io.BytesIO()
    Image.fromarray(slice_pixels()).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue() + b"trailing payload: Jane Doe MRN-7734519"


def _jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = "Patient: Jane Doe MRN-7734519"  # ImageDescription
    exif[0x013B] = "Doe^Jane"  # Artist
    buffer = io.BytesIO()
    Image.fromarray(slice_pixels()).save(buffer, format="JPEG", exif=exif, comment=b"Jane Doe MRN-7734519")
    return buffer.getvalue()


def _tiff_with_description() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(slice_pixels()).save(buffer, format="TIFF", description="Patient: Jane Doe MRN-7734519")
    return buffer.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("build", [_png_with_text, _jpeg_with_exif, _tiff_with_description])
def test_a_raster_upload_leaves_no_metadata_at_rest(alice, sent_tasks, build):
    data = build()
    assert b"MRN-7734519" in data  # the planted text really is in the upload
    scan = scan_ingest(owner=alice, uploaded_file=upload_file(data, "slice"))
    for needle in NEEDLES:
        assert needle not in _at_rest(), needle
    stored = Image.open(scan.file.open("rb"))
    assert stored.format == "PNG" and stored.size == (96, 80) and not stored.info.get("Patient")
    assert scan.file.name.endswith("original.png")
