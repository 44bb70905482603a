"""De-identify a DICOM data set in place: PS3.15 Table E.1-1, the Basic Application Level Confidentiality Profile.

The table itself comes as data from a maintained, pinned library (dicom-anonymizer, Kitware,
BSD licence: its transcription of the 2026c edition of the standard), so every attribute the
standard names is handled, not the ones someone remembered. What each action code does here:

- X  remove;  Z  keep the attribute, empty;  D  replace with a dummy value of its VR;
- U  replace the UID with a new one: an HMAC of the old one under the portal's key, so the same old
  UID becomes the same new one in every file (the slices of a series stay one series, with one
  study) while no one without the key can tell which old UID it was;
- compound codes (the standard lets the IOD decide): any code with X removes (X/Z, X/D, X/Z/D,
  X/Z/U*); Z/D empties. Removing is the stricter choice and the stored file is only read by us.

Beyond the table, safe by default:
- attributes the table does not list survive only if they are on SURVIVORS, an allow-list of
  what an image needs (pixel description, geometry, acquisition parameters); anything else,
  known or unknown, is removed, so a new free-text attribute cannot slip through;
- private tags and the 50xx/60xx repeating groups are removed, and a person name, date or time
  left anywhere (sequences included) is emptied;
- the file meta group and the 128-byte preamble are rebuilt from nothing.
The profile and options applied are recorded in the De-identification Method attributes.
"""

import hashlib
import hmac
from collections.abc import Iterator

from dicomanonymizer.dicom_anonymization_databases import dicomfields_2026c as _table
from pydicom.dataelem import DataElement
from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset, FileMetaDataset
from django.conf import settings
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

TABLE_EDITION = "2026c"
DEIDENTIFICATION_METHOD = f"PS3.15 E.1-1 Basic Profile ({TABLE_EDITION}); allow-list; no options"  # LO: 64 at most
# DCM 113100 "Basic Application Confidentiality Profile" (PS3.16 CID 7050); no option codes: none is applied
# (no "Retain ..." option keeps anything the basic profile removes).
BASIC_PROFILE_CODE = ("113100", "DCM", "Basic Application Confidentiality Profile")

# The table's action code for each (group, element), from the library's lists.
_CODE_OF_LIST = {"D_TAGS": "D", "Z_TAGS": "Z", "X_TAGS": "X", "U_TAGS": "U", "Z_D_TAGS": "Z/D", "X_Z_TAGS": "X/Z",
                 "X_D_TAGS": "X/D", "X_Z_D_TAGS": "X/Z/D", "X_Z_U_STAR_TAGS": "X/Z/U*"}  # fmt: skip
ACTION_CODES: dict[int, str] = {}
# Rows with a mask, e.g. (60xx,4000) Overlay Comments: (group, element, group mask, element mask) -> code.
MASKED_ACTION_CODES: list[tuple[tuple[int, int, int, int], str]] = []
for _list_name, _code in _CODE_OF_LIST.items():
    for _tag in getattr(_table, _list_name):
        if len(_tag) == 2:
            ACTION_CODES[(_tag[0] << 16) | _tag[1]] = _code
        else:
            MASKED_ACTION_CODES.append((tuple(_tag), _code))

# What the code does (see the module's docstring): one of remove, empty, dummy, uid.
_EFFECT = {"X": "remove", "Z": "empty", "D": "dummy", "U": "uid", "Z/D": "empty", "X/Z": "remove",
           "X/D": "remove", "X/Z/D": "remove", "X/Z/U*": "remove"}  # fmt: skip

# Attributes the table does not list that survive: what a slice needs to be read, windowed and
# placed, and nothing that can name anyone. Everything else not in the table is removed.
SURVIVORS = frozenset({
    # SOP common, and the record of this very de-identification
    "SpecificCharacterSet", "SOPClassUID", "ImageType", "InstanceNumber", "SeriesNumber", "AcquisitionNumber",
    "Modality", "PatientIdentityRemoved", "DeidentificationMethod", "DeidentificationMethodCodeSequence",
    "BurnedInAnnotation", "RecognizableVisualFeatures", "LossyImageCompression", "LossyImageCompressionRatio",
    "LossyImageCompressionMethod", "PresentationIntentType", "Manufacturer", "ManufacturerModelName",
    # image pixel
    "Rows", "Columns", "SamplesPerPixel", "PhotometricInterpretation", "PlanarConfiguration", "BitsAllocated",
    "BitsStored", "HighBit", "PixelRepresentation", "PixelData", "NumberOfFrames", "PixelAspectRatio",
    "SmallestImagePixelValue", "LargestImagePixelValue", "PixelPaddingValue", "PixelPaddingRangeLimit",
    "RedPaletteColorLookupTableDescriptor", "GreenPaletteColorLookupTableDescriptor",
    "BluePaletteColorLookupTableDescriptor", "RedPaletteColorLookupTableData",
    "GreenPaletteColorLookupTableData", "BluePaletteColorLookupTableData",
    # modality and VOI LUT
    "RescaleSlope", "RescaleIntercept", "RescaleType", "ModalityLUTSequence", "LUTDescriptor", "LUTData",
    "LUTExplanation", "ModalityLUTType", "WindowCenter", "WindowWidth", "WindowCenterWidthExplanation",
    "VOILUTFunction", "VOILUTSequence",
    # image plane and position
    "PixelSpacing", "ImagePositionPatient", "ImageOrientationPatient", "SliceThickness", "SliceLocation",
    "SpacingBetweenSlices", "PatientPosition", "BodyPartExamined", "PositionReferenceIndicator",
    # MR acquisition
    "ScanningSequence", "SequenceVariant", "ScanOptions", "MRAcquisitionType", "SequenceName", "AngioFlag",
    "RepetitionTime", "EchoTime", "InversionTime", "NumberOfAverages", "ImagingFrequency", "ImagedNucleus",
    "EchoNumbers", "MagneticFieldStrength", "NumberOfPhaseEncodingSteps", "EchoTrainLength",
    "PercentSampling", "PercentPhaseFieldOfView", "PixelBandwidth", "ReceiveCoilName", "TransmitCoilName",
    "AcquisitionMatrix", "InPlanePhaseEncodingDirection", "FlipAngle", "VariableFlipAngleFlag", "SAR", "dBdt",
    "MRAcquisitionFrequencyEncodingSteps", "MRAcquisitionPhaseEncodingStepsInPlane", "DiffusionBValue",
    "ContrastBolusRoute", "ContrastBolusVolume", "ContrastBolusIngredientConcentration",
    # CT and general acquisition numbers (for slices from other modalities that are refused later anyway)
    "KVP", "ExposureTime", "XRayTubeCurrent", "Exposure", "ConvolutionKernel", "DataCollectionDiameter",
    "ReconstructionDiameter", "GantryDetectorTilt", "TableHeight", "RotationDirection",
})

# Value representations that hold names, dates and times: emptied wherever they are left.
_EMPTIED_VRS = frozenset({"PN", "DA", "DT", "TM"})
_REPEATING_GROUP_PREFIXES = (0x5000, 0x6000)  # curves and overlays (burnt-in graphics and text)
# Dummy values for D, by VR: valid, and saying nothing. A VR not listed (binary, sequences) is removed instead.
_DUMMIES = {"AE": "ANONYMIZED", "AS": "000D", "CS": "ANONYMIZED", "DA": "19000101", "DS": "0", "DT": "19000101000000",
            "IS": "0", "LO": "ANONYMIZED", "LT": "ANONYMIZED", "PN": "ANONYMIZED", "SH": "ANONYMIZED",
            "ST": "ANONYMIZED", "TM": "000000", "UC": "ANONYMIZED", "UT": "ANONYMIZED", "UR": "",
            "FL": 0.0, "FD": 0.0, "SL": 0, "SS": 0, "UL": 0, "US": 0}  # fmt: skip
# Type-2 attributes of the patient and study modules: present and empty, so the file stays valid.
_EMPTY_BUT_PRESENT = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                      "ReferringPhysicianName", "StudyID", "AccessionNumber")  # fmt: skip


def action_code(tag: int) -> str | None:
    """The Table E.1-1 action code for a tag (masked rows included), or None if the table does not list it."""
    code = ACTION_CODES.get(tag)
    if code is not None:
        return code
    group, element = tag >> 16, tag & 0xFFFF
    for (row_group, row_element, group_mask, element_mask), masked_code in MASKED_ACTION_CODES:
        if group & group_mask == row_group & group_mask and element & element_mask == row_element & element_mask:
            return masked_code
    return None


def deidentify(dataset: Dataset) -> None:
    """Apply the profile to the data set in place and record it (PatientIdentityRemoved, method, code)."""
    new_uids: dict[str, str] = {}
    _apply(dataset, new_uids, top_level=True)
    dataset.PatientIdentityRemoved = "YES"
    dataset.DeidentificationMethod = DEIDENTIFICATION_METHOD
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = BASIC_PROFILE_CODE
    dataset.DeidentificationMethodCodeSequence = [code]
    for keyword in _EMPTY_BUT_PRESENT:
        setattr(dataset, keyword, "")
    dataset.preamble = b"\x00" * 128  # the preamble is free-form and may hide anything
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = dataset.get("SOPClassUID", dataset.file_meta.get("MediaStorageSOPClassUID", ""))
    meta.MediaStorageSOPInstanceUID = dataset.get("SOPInstanceUID", generate_uid())
    meta.TransferSyntaxUID = dataset.file_meta.get("TransferSyntaxUID", ExplicitVRLittleEndian)
    dataset.file_meta = meta  # a fresh meta group: no source application or sender's AE title


def _elements(dataset: Dataset) -> Iterator[DataElement]:
    return iter(list(dataset))  # a copy: elements are removed while walking


def _apply(dataset: Dataset, new_uids: dict[str, str], *, top_level: bool) -> None:
    for element in _elements(dataset):
        tag = int(element.tag)
        if element.tag.is_private or (element.tag.group & 0xFF00) in _REPEATING_GROUP_PREFIXES:
            del dataset[element.tag]
            continue
        code = action_code(tag)
        if code is None:
            if keyword_for_tag(tag) not in SURVIVORS:
                del dataset[element.tag]
                continue
            if element.VR == "SQ":
                for item in element.value:
                    _apply(item, new_uids, top_level=False)
            elif element.VR in _EMPTIED_VRS:
                element.value = ""
            continue
        _act(dataset, element, _EFFECT[code], new_uids)


def _act(dataset: Dataset, element: DataElement, effect: str, new_uids: dict[str, str]) -> None:
    if effect == "uid" and element.VR == "UI":
        element.value = _replaced_uids(element.value, new_uids)
    elif effect == "empty" and element.VR != "SQ":
        element.value = "" if element.VR not in ("FL", "FD", "SL", "SS", "UL", "US") else None
    elif effect == "dummy" and element.VR in _DUMMIES:
        element.value = _DUMMIES[element.VR]
    else:
        # remove; and every effect on a sequence or a binary value, whose contents could carry anything
        del dataset[element.tag]


def _replaced_uids(value, new_uids: dict[str, str]):
    if isinstance(value, str):
        if not value:
            return value
        return new_uids.setdefault(value, new_uid(value))
    return [new_uids.setdefault(str(uid), new_uid(str(uid))) for uid in value]


def new_uid(old: str) -> str:
    """The de-identified UID for `old`: the same in every file, unlinkable to `old` without the portal's key."""
    keyed = hmac.new(settings.STUDIES_UID_HASH_KEY.encode(), f"deidentified-uid\x00{old}".encode(), hashlib.sha256).hexdigest()
    return generate_uid(entropy_srcs=[keyed])
