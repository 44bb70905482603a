"""DICOM PHI never reaches storage, the database, the logs, the pages or the task payload."""

import io
import logging

import pydicom
import pytest
from django.core.management import call_command
from django.urls import reverse

from scans.dicom import DEIDENTIFICATION_METHOD
from scans.models import Scan
from scans.tests.conftest import media_files
from scans.tests.factories import PHI_STRINGS, bundled_dicom, dicom_bytes, dicom_dataset, upload_file

pytestmark = pytest.mark.django_db


def _everything_stored(client, scan) -> dict[str, bytes]:
    out = io.StringIO()
    call_command("dumpdata", stdout=out)  # every row of every table
    pages = [reverse("scans:detail", args=[scan.id]), reverse("scans:status", args=[scan.id]), reverse("scans:history")]
    return {
        "storage": b"".join(path.read_bytes() for path in media_files()),
        "database": out.getvalue().encode(),
        "pages": b"".join(client.get(url).content for url in pages),
    }


def _assert_absent(needles: list[str], haystacks: dict[str, bytes]) -> None:
    for where, data in haystacks.items():
        for needle in needles:
            for encoded in {needle.encode(), needle.upper().encode(), needle.replace("^", " ").encode()}:
                assert encoded not in data, f"{needle!r} found in {where}"


def test_it_removes_planted_phi_from_everything_it_keeps(client, alice, sent_tasks, caplog, django_capture_on_commit_callbacks):
    client.force_login(alice)
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("scans:upload"), {"files": [upload_file(dicom_bytes(), "IM0001.dcm")]})
    scan = Scan.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("scans:detail", args=[scan.id])

    haystacks = _everything_stored(client, scan)
    haystacks["logs"] = "\n".join(record.getMessage() for record in caplog.records).encode()
    haystacks["task payload"] = repr(sent_tasks).encode()
    _assert_absent(PHI_STRINGS, haystacks)
    assert sent_tasks[0]["args"] == [str(scan.id)] and sent_tasks[0]["kwargs"] is None


def test_the_stored_dicom_records_how_it_was_deidentified(alice, sent_tasks):
    from scans.services import scan_ingest

    original = dicom_dataset()
    scan = scan_ingest(owner=alice, uploaded_file=upload_file(dicom_bytes(original), "IM0001"))
    stored = pydicom.dcmread(scan.file.open("rb"))
    assert scan.deidentified is True
    assert stored.PatientIdentityRemoved == "YES"
    assert stored.DeidentificationMethod == DEIDENTIFICATION_METHOD
    assert stored.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
    assert stored.PatientName == "" and stored.PatientID == "" and stored.PatientBirthDate == ""
    assert "InstitutionName" not in stored and "PatientAddress" not in stored and "ImageComments" not in stored
    assert "ReferencedStudySequence" not in stored and "RequestAttributesSequence" not in stored
    assert not any(element.tag.is_private for element in stored.iterall())
    # New identifiers, consistent between the data set and its file meta information.
    assert stored.StudyInstanceUID != original.StudyInstanceUID
    assert stored.SOPInstanceUID != original.SOPInstanceUID
    assert stored.file_meta.MediaStorageSOPInstanceUID == stored.SOPInstanceUID
    assert "SourceApplicationEntityTitle" not in stored.file_meta
    assert stored.preamble == b"\x00" * 128
    # Still a readable image with the same pixels.
    assert stored.pixel_array.shape == (48, 64)


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm"])
def test_it_deidentifies_pydicoms_bundled_files(client, alice, sent_tasks, name):
    data = bundled_dicom(name, modality="MR")  # CT_small's header is full of PHI; as a CT it would be refused unread
    original = pydicom.dcmread(io.BytesIO(data))
    needles = [str(element.value) for element in original.iterall()
               if element.VR == "PN" and len(str(element.value).strip("-^ ")) > 3]  # fmt: skip
    needles.append(str(original.PatientID))
    assert original.InstitutionName and len(needles) >= 2, "the bundled file should carry identifying values"
    client.force_login(alice)
    client.post(reverse("scans:upload"), {"files": [upload_file(data, "slice")]})
    scan = Scan.objects.get()
    _assert_absent(needles, _everything_stored(client, scan))
    stored = pydicom.dcmread(scan.file.open("rb"))
    assert "InstitutionName" not in stored and stored.PatientIdentityRemoved == "YES"
