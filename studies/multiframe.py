"""A multi-frame DICOM file (an Enhanced MR volume, or a classic one with Number of Frames) -> one
single-frame file per frame, so that every frame goes through the same checks, decoding and
de-identification as a slice sent as its own file (scans.dicom).

Each frame's geometry and reading parameters live in the functional groups (per frame, else
shared by all frames); they are copied to the plain attributes a single slice carries (Image
Position / Orientation (Patient), Pixel Spacing, window, rescale, echo and repetition time), and
the functional groups are dropped (de-identification would remove them anyway). The frame's
number becomes its Instance Number. Nothing is decoded here: compressed frames stay compressed,
and their own headers are checked when each frame is decoded.
"""

import copy
import io

import pydicom
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import EnhancedMRImageStorage, MRImageStorage, generate_uid

from studies.archive import Member
from studies.errors import FileProblem

# (functional group sequence, attribute in it, the single slice's attribute)
_FRAME_ATTRIBUTES = (
    ("PlanePositionSequence", "ImagePositionPatient", "ImagePositionPatient"),
    ("PlaneOrientationSequence", "ImageOrientationPatient", "ImageOrientationPatient"),
    ("PixelMeasuresSequence", "PixelSpacing", "PixelSpacing"),
    ("PixelMeasuresSequence", "SliceThickness", "SliceThickness"),
    ("PixelMeasuresSequence", "SpacingBetweenSlices", "SpacingBetweenSlices"),
    ("FrameVOILUTSequence", "WindowCenter", "WindowCenter"),
    ("FrameVOILUTSequence", "WindowWidth", "WindowWidth"),
    ("PixelValueTransformationSequence", "RescaleSlope", "RescaleSlope"),
    ("PixelValueTransformationSequence", "RescaleIntercept", "RescaleIntercept"),
    ("MREchoSequence", "EffectiveEchoTime", "EchoTime"),
    ("MRTimingAndRelatedParametersSequence", "RepetitionTime", "RepetitionTime"),
    ("MRTimingAndRelatedParametersSequence", "FlipAngle", "FlipAngle"),
)
_GROUPS = ("PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence")


def frame_count(dataset: Dataset) -> int:
    try:
        return max(1, int(dataset.get("NumberOfFrames") or 1))
    except (TypeError, ValueError):
        return 1


def split_frames(member: Member, *, max_frames: int) -> list[Member] | FileProblem:
    """A multi-frame DICOM member -> one member per frame, in frame order; or why it is skipped.

    Not for a deflated file (studies.dicom_series skips those before): pydicom would inflate it whole.
    """
    damaged = FileProblem(member.name, "The multi-frame DICOM file is damaged or incomplete and cannot be read. Skipped.")
    try:
        dataset = pydicom.dcmread(io.BytesIO(member.data), force=False)
    except Exception:  # pydicom raises many kinds on hostile input
        return damaged
    frames = frame_count(dataset)
    if frames > max_frames:
        return FileProblem(member.name, f"The file holds {frames} frames; a study takes at most {max_frames} slices. Skipped.")
    try:
        pixels = _frame_pixels(dataset, frames)
    except ValueError:
        return damaged
    per_frame = list(dataset.get("PerFrameFunctionalGroupsSequence") or [])
    shared = (dataset.get("SharedFunctionalGroupsSequence") or [None])[0]
    if per_frame and len(per_frame) != frames:
        return damaged
    del dataset.PixelData  # what is left is copied once per frame: not the whole volume each time
    for keyword in (*_GROUPS, "NumberOfFrames"):
        if keyword in dataset:
            delattr(dataset, keyword)
    if dataset.get("SOPClassUID") == EnhancedMRImageStorage:  # one frame with classic attributes is an MR Image
        dataset.SOPClassUID = dataset.file_meta.MediaStorageSOPClassUID = MRImageStorage
    compressed = dataset.file_meta.TransferSyntaxUID.is_compressed
    members = []
    for index, frame in enumerate(pixels):
        single = copy.deepcopy(dataset)
        groups = [group for group in ((per_frame[index] if per_frame else None), shared) if group is not None]
        for sequence, keyword, target in _FRAME_ATTRIBUTES:
            value = _group_value(groups, sequence, keyword)
            if value is not None:
                setattr(single, target, value)
        single.InstanceNumber = index + 1
        # Each frame is an instance of its own: its own UID, derived from the file's (de-identification
        # then replaces it like any other UID).
        single.SOPInstanceUID = single.file_meta.MediaStorageSOPInstanceUID = generate_uid(
            entropy_srcs=[str(dataset.get("SOPInstanceUID", member.name)), str(index)]
        )
        single.PixelData = frame
        # Encapsulated frames are OB; native ones OW above 8 bits (PS3.5 8.2).
        single["PixelData"].VR = "OB" if compressed or int(single.BitsAllocated) <= 8 else "OW"
        try:
            buffer = io.BytesIO()
            single.save_as(buffer, enforce_file_format=True)
        except Exception:  # an attribute that cannot be written back
            return damaged
        members.append(Member(name=f"{member.name} (frame {index + 1} of {frames})", data=buffer.getvalue()))
    return members


def _frame_pixels(dataset: Dataset, frames: int) -> list[bytes]:
    """The pixel data cut into its frames: native bytes by size, encapsulated ones by fragment."""
    data = dataset.PixelData
    if dataset.file_meta.TransferSyntaxUID.is_compressed:
        cut = list(generate_frames(data, number_of_frames=frames))
        if len(cut) != frames:
            raise ValueError("frame count")
        return [encapsulate([frame]) for frame in cut]
    bits, rows, columns = int(dataset.BitsAllocated), int(dataset.Rows), int(dataset.Columns)
    samples = int(dataset.get("SamplesPerPixel", 1))
    if bits % 8 or not (rows and columns):  # bit-packed (1-bit) frames do not cut on byte boundaries
        raise ValueError("frame size")
    size = rows * columns * samples * bits // 8
    if len(data) < size * frames:
        raise ValueError("short pixel data")
    return [data[index * size : (index + 1) * size] for index in range(frames)]


def _group_value(groups: list[Dataset], sequence: str, keyword: str):
    for group in groups:  # the frame's own group first, then the shared one
        items = group.get(sequence) or []
        if items and keyword in items[0]:
            return items[0][keyword].value
    return None
