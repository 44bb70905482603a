"""DICOM: read safely, de-identify before anything is stored, window to an 8-bit display image.

De-identification follows the DICOM PS3.15 Annex E Basic Application Level Confidentiality
Profile: the attributes it lists are removed or emptied, UIDs are replaced, private tags are
removed, and, to be safe beyond the table, every person name, date and time left anywhere in
the data set (sequences included) is emptied too. The result records what was done
(PatientIdentityRemoved = YES, DeidentificationMethod and its code sequence).
"""

import io

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels import apply_modality_lut, apply_voi_lut
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from scans.errors import ScanRejected
from scans.images import DecodedImage, _MULTI_FRAME_MESSAGE, check_pixel_count, scale_to_uint8

DEIDENTIFICATION_METHOD = "PS3.15 Basic Confidentiality Profile, NeuroScan"  # LO: 64 chars at most
# DCM 113100 "Basic Application Confidentiality Profile" (PS3.16 CID 7050).
BASIC_PROFILE_CODE = ("113100", "DCM", "Basic Application Confidentiality Profile")

# Attributes of PS3.15 Table E.1-1 that identify the patient, the people involved, the
# institution or the device, or that carry free text. Removed wherever they occur.
REMOVED_KEYWORDS = frozenset({
    # patient
    "PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientBirthTime", "PatientSex",
    "PatientAge", "PatientSize", "PatientWeight", "PatientAddress", "PatientTelephoneNumbers",
    "PatientMotherBirthName", "OtherPatientIDs", "OtherPatientIDsSequence", "OtherPatientNames",
    "PatientBirthName", "MilitaryRank", "BranchOfService", "MedicalRecordLocator", "EthnicGroup",
    "Occupation", "AdditionalPatientHistory", "PatientComments", "PatientReligiousPreference",
    "PatientInsurancePlanCodeSequence", "CountryOfResidence", "RegionOfResidence", "PatientState",
    "ResponsiblePerson", "ResponsibleOrganization", "PatientSexNeutered", "SpecialNeeds",
    "MedicalAlerts", "Allergies", "SmokingStatus", "PregnancyStatus", "LastMenstrualDate",
    "PatientTransportArrangements", "ReferencedPatientSequence", "ReferencedPatientPhotoSequence",
    "PatientPrimaryLanguageCodeSequence", "CurrentPatientLocation", "PatientInstitutionResidence",
    # people and institutions
    "InstitutionName", "InstitutionAddress", "InstitutionCodeSequence", "InstitutionalDepartmentName",
    "ReferringPhysicianName", "ReferringPhysicianAddress", "ReferringPhysicianTelephoneNumbers",
    "ReferringPhysicianIdentificationSequence", "ConsultingPhysicianName", "PerformingPhysicianName",
    "PerformingPhysicianIdentificationSequence", "PhysiciansOfRecord", "PhysiciansOfRecordIdentificationSequence",
    "NameOfPhysiciansReadingStudy", "PhysiciansReadingStudyIdentificationSequence", "OperatorsName",
    "OperatorIdentificationSequence", "RequestingPhysician", "ScheduledPerformingPhysicianName",
    "PersonName", "PersonAddress", "PersonTelephoneNumbers", "VerifyingObserverName", "ContentCreatorName",
    "ReviewerName", "EvaluatorName", "ScheduledPatientInstitutionResidence",
    # device, visit, study identifiers and free text
    "StationName", "DeviceSerialNumber", "DeviceUID", "AccessionNumber", "StudyID", "AdmissionID",
    "IssuerOfAdmissionID", "ServiceEpisodeID", "ServiceEpisodeDescription", "AdmittingDiagnosesDescription",
    "AdmittingDiagnosesCodeSequence", "RequestAttributesSequence", "RequestedProcedureID",
    "RequestedProcedureDescription", "ScheduledProcedureStepID", "ScheduledProcedureStepDescription",
    "PerformedProcedureStepID", "PerformedProcedureStepDescription", "PerformedLocation",
    "ScheduledStationName", "PerformedStationName", "ReasonForStudy", "ReasonForTheRequestedProcedure",
    "RequestingService", "StudyDescription", "SeriesDescription", "ImageComments", "FrameComments",
    "StudyComments", "InterpretationText", "TextString", "TextComments", "DerivationDescription",
    "ProtocolName", "AcquisitionComments", "ContrastBolusAgent", "IdentifyingComments",
    "DataSetTrailingPadding", "OriginalAttributesSequence", "ModifiedAttributesSequence",
    "DigitalSignaturesSequence", "MACParametersSequence", "EncryptedAttributesSequence",
    "ReferencedStudySequence", "ReferencedPerformedProcedureStepSequence", "SourceImageSequence",
    "ReferencedImageSequence", "ReferencedSeriesSequence", "ReferencedFrameOfReferenceSequence",
    "ReferencedSOPInstanceUID", "StorageMediaFileSetUID", "IrradiationEventUID", "InstanceCreatorUID",
    "TimezoneOffsetFromUTC", "OverlayData", "OverlayComments", "CurveData", "GraphicAnnotationSequence",
    "PlateID", "CassetteID", "GantryID", "DetectorID", "OtherPatientIDsSequence",
})

# Identifiers the profile replaces with new values, keeping the file valid and self-consistent.
REPLACED_UID_KEYWORDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID",
                         "SynchronizationFrameOfReferenceUID")  # fmt: skip

# Value representations that hold names, dates and times: emptied wherever they are left.
_EMPTIED_VRS = frozenset({"PN", "DA", "DT", "TM"})
# Repeating groups (50xx curves, 60xx overlays) can carry burnt-in text.
_REPEATING_GROUP_PREFIXES = (0x5000, 0x6000)


def decode_dicom(data: bytes, *, max_pixels: int) -> DecodedImage:
    """Bytes of a DICOM Part-10 file -> de-identified DICOM bytes + 8-bit display image."""
    try:
        # force=False (the default): a file without the DICM preamble is not DICOM to us.
        dataset = pydicom.dcmread(io.BytesIO(data), force=False)
    except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError, AttributeError, NotImplementedError):
        raise ScanRejected("The DICOM file is damaged or incomplete and cannot be read.") from None
    except Exception:  # pydicom may raise others on hostile input; none may reach the user as a 500
        raise ScanRejected("The DICOM file is damaged or incomplete and cannot be read.") from None

    if "PixelData" not in dataset:
        raise ScanRejected("The DICOM file holds no image (no pixel data): upload an image slice, not a report or a structured document.")
    frames = _int_attribute(dataset, "NumberOfFrames", 1)
    if frames > 1:
        raise ScanRejected(_MULTI_FRAME_MESSAGE)
    rows, columns = _int_attribute(dataset, "Rows", 0), _int_attribute(dataset, "Columns", 0)
    check_pixel_count(columns, rows, max_pixels=max_pixels)
    samples = _int_attribute(dataset, "SamplesPerPixel", 1)
    if samples not in (1, 3):
        raise ScanRejected("The DICOM image has an unsupported number of colour samples per pixel.")

    display = _display_pixels(dataset)
    deidentify(dataset)
    return DecodedImage(format="dicom", stored_bytes=_to_bytes(dataset), display=display, deidentified=True)


def _int_attribute(dataset: Dataset, keyword: str, default: int) -> int:
    try:
        value = dataset.get(keyword, default)
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        raise ScanRejected(f"The DICOM file has an invalid {keyword} value.") from None


def _display_pixels(dataset: Dataset) -> np.ndarray:
    """Stored values -> modality LUT/rescale -> VOI LUT/window -> uint8 (H, W) or (H, W, 3)."""
    syntax = dataset.file_meta.get("TransferSyntaxUID", "unknown")
    try:
        pixels = dataset.pixel_array
    except (NotImplementedError, RuntimeError) as error:
        if "decod" in str(error).lower() or "plugin" in str(error).lower() or "handler" in str(error).lower():
            name = getattr(syntax, "name", str(syntax))
            raise ScanRejected(
                f"The DICOM file's compression ({name}) cannot be decoded here. Export it uncompressed or as JPEG/JPEG 2000."
            ) from None
        raise ScanRejected("The DICOM pixel data is damaged or incomplete and cannot be decoded.") from None
    except Exception:
        raise ScanRejected("The DICOM pixel data is damaged or incomplete and cannot be decoded.") from None

    if pixels.ndim == 3 and pixels.shape[-1] == 3 and _int_attribute(dataset, "SamplesPerPixel", 1) == 3:
        return scale_to_uint8(pixels) if pixels.dtype != np.uint8 else np.ascontiguousarray(pixels)
    if pixels.ndim != 2:
        raise ScanRejected(_MULTI_FRAME_MESSAGE)

    values = apply_modality_lut(pixels, dataset)  # stored values -> real-world (e.g. rescale slope/intercept)
    if "WindowCenter" in dataset or "VOILUTSequence" in dataset:
        values = apply_voi_lut(values, dataset, index=0)  # the window the modality suggests
    grey = scale_to_uint8(np.asarray(values, dtype=np.float64))
    if str(dataset.get("PhotometricInterpretation", "")).upper() == "MONOCHROME1":
        grey = 255 - grey  # MONOCHROME1: low values are white
    return grey


def deidentify(dataset: Dataset) -> None:
    """Remove or empty identifying attributes in place (PS3.15 basic profile), and record it."""
    dataset.remove_private_tags()
    _clean(dataset)
    new_uids = {keyword: generate_uid() for keyword in REPLACED_UID_KEYWORDS if keyword in dataset}
    for keyword, uid in new_uids.items():
        setattr(dataset, keyword, uid)
    dataset.PatientIdentityRemoved = "YES"
    dataset.DeidentificationMethod = DEIDENTIFICATION_METHOD
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = BASIC_PROFILE_CODE
    dataset.DeidentificationMethodCodeSequence = [code]
    # Type-2 attributes of the patient and study modules stay present, empty, so the file remains valid.
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                    "ReferringPhysicianName", "StudyID", "AccessionNumber"):  # fmt: skip
        setattr(dataset, keyword, "")
    dataset.preamble = b"\x00" * 128  # the preamble is free-form and may hide anything
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = dataset.get("SOPClassUID", dataset.file_meta.get("MediaStorageSOPClassUID", ""))
    meta.MediaStorageSOPInstanceUID = dataset.get("SOPInstanceUID", generate_uid())
    meta.TransferSyntaxUID = dataset.file_meta.get("TransferSyntaxUID", ExplicitVRLittleEndian)
    dataset.file_meta = meta  # a fresh meta group: no source application or sender's AE title


def _clean(dataset: Dataset) -> None:
    for element in list(dataset):
        group = element.tag.group
        if element.keyword in REMOVED_KEYWORDS or (group & 0xFF00) in _REPEATING_GROUP_PREFIXES:
            del dataset[element.tag]
        elif element.VR == "SQ":
            for item in element.value:
                _clean(item)
        elif element.VR in _EMPTIED_VRS:
            element.value = ""


def _to_bytes(dataset: Dataset) -> bytes:
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
