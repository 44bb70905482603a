"""Group DICOM files into series and order their slices, from their headers (read before de-identification).

Only what grouping, ordering and reading need is taken from a header, and kept only in memory:
the patient's identity (as a keyed hash, to refuse an upload that mixes patients), the Study and
Series Instance UIDs (as keyed hashes), the slice geometry, and the series' reading parameters.
Pixels are not read here: each file is decoded and de-identified by the scans ingest path.
"""

import io
import math
import unicodedata
from dataclasses import dataclass, field

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import DeflatedExplicitVRLittleEndian

from scans.dicom import inflated, modality_problem
from scans.errors import ScanRejected
from scans.images import sniff_format
from studies.archive import Member
from studies.errors import FileProblem, StudyRejected
from studies.identity import keyed_hash
from studies.multiframe import frame_count, split_frames

# Reading parameters kept per series: (DICOM keyword, our key). Numbers only: no free text.
READING_PARAMETERS = (
    ("EchoTime", "echo_time_ms"),
    ("RepetitionTime", "repetition_time_ms"),
    ("InversionTime", "inversion_time_ms"),
    ("FlipAngle", "flip_angle_deg"),
    ("SliceThickness", "slice_thickness_mm"),
    ("SpacingBetweenSlices", "spacing_between_slices_mm"),
    ("MagneticFieldStrength", "field_strength_t"),
)


@dataclass
class SliceHeader:
    member: Member
    patient_key: str  # keyed hash of (Patient ID, Name, Birth Date): compared, never stored
    study_uid_hash: str
    series_uid_hash: str
    series_number: int | None
    description: str
    modality: str
    parameters: dict
    orientation: tuple[float, ...] | None  # Image Orientation (Patient): row and column direction cosines
    position: tuple[float, float, float] | None  # Image Position (Patient), mm
    instance_number: int | None


@dataclass
class OrderedSlice:
    member: Member
    location_mm: float | None
    instance_number: int | None


@dataclass
class SeriesGroup:
    series_uid_hash: str
    number: int  # 1-based, in Series Number order
    description: str
    modality: str
    parameters: dict
    slices: list[OrderedSlice] = field(default_factory=list)


@dataclass
class GroupedStudy:
    study_uid_hash: str
    series: list[SeriesGroup]
    skipped: list[FileProblem]


def _text(dataset: Dataset, keyword: str, length: int) -> str:
    value = dataset.get(keyword, "")
    printable = "".join(ch for ch in str(value or "") if unicodedata.category(ch)[0] != "C").strip()
    return printable[:length]


def _number(dataset: Dataset, keyword: str) -> float | None:
    try:
        value = dataset.get(keyword)
        number = float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return number if number is not None and math.isfinite(number) else None


def _integer(dataset: Dataset, keyword: str) -> int | None:
    number = _number(dataset, keyword)
    return int(number) if number is not None else None


def _vector(dataset: Dataset, keyword: str, length: int) -> tuple[float, ...] | None:
    try:
        values = tuple(float(value) for value in dataset.get(keyword) or ())
    except (TypeError, ValueError):
        return None
    return values if len(values) == length and all(math.isfinite(v) for v in values) else None


def read_headers(member: Member, *, max_frames: int, max_pixels: int) -> list[SliceHeader] | FileProblem:
    """One member -> a SliceHeader per frame (one for a plain slice), or the reason it is skipped.

    A multi-frame file is cut into single-frame files first (studies.multiframe): each frame is
    then read, decoded and de-identified as a slice of its own.
    """
    header = read_header(member, max_pixels=max_pixels)
    if header is not _MULTI_FRAME:
        return header if isinstance(header, FileProblem) else [header]
    frames = split_frames(member, max_frames=max_frames)
    if isinstance(frames, FileProblem):
        return frames
    member.data = b""  # the frames carry everything now
    headers = [read_header(frame, max_pixels=max_pixels) for frame in frames]
    problem = next((header for header in headers if not isinstance(header, SliceHeader)), None)
    return FileProblem(member.name, problem.error) if problem else headers


_MULTI_FRAME = object()  # read_header's answer for a file of several frames


def read_header(member: Member, *, max_pixels: int) -> SliceHeader | FileProblem:
    """One single-frame member -> its SliceHeader, or the reason it is not a DICOM image file.

    A deflated file is inflated under the cap a slice of max_pixels needs before pydicom sees it.
    """
    kind = sniff_format(member.data)
    if kind is None:
        return FileProblem(member.name, "Not a DICOM file (no DICOM header). Skipped.")
    if kind != "dicom":
        return FileProblem(
            member.name, f"A {kind.upper()} picture, not a DICOM slice: upload pictures on the Upload page. Skipped."
        )
    try:
        # defer_size: large values (the pixels) are not loaded. The whole file is parsed, not only the
        # header, because pydicom stops quietly at a cut: a file without pixel data is cut short (or
        # is no image), and its patient attributes may be missing, which must not look like another patient.
        dataset = pydicom.dcmread(io.BytesIO(inflated(member.data, max_pixels=max_pixels)), defer_size=1024, force=False)
    except ScanRejected as refused:  # a deflate bomb, or damaged deflated data
        return FileProblem(member.name, f"{refused.message} Skipped.")
    except Exception:  # pydicom raises many types on hostile input; none may become a 500
        return FileProblem(member.name, "The DICOM file is damaged or incomplete and cannot be read. Skipped.")
    if "PixelData" not in dataset:
        return FileProblem(
            member.name, "The DICOM file holds no image (no pixel data: a report, an index, or a file cut short). Skipped."
        )
    if problem := modality_problem(dataset):
        return FileProblem(member.name, f"{problem} Skipped.")
    if frame_count(dataset) > 1:
        if dataset.file_meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian:
            # Cutting it into frames would mean inflating the whole volume again, unbounded, in pydicom.
            return FileProblem(member.name, "A deflated multi-frame DICOM file is not read here: export it uncompressed. Skipped.")
        return _MULTI_FRAME
    try:
        patient = "\x00".join(_text(dataset, keyword, 200) for keyword in ("PatientID", "PatientName", "PatientBirthDate"))
        parameters = {key: value for keyword, key in READING_PARAMETERS if (value := _number(dataset, keyword)) is not None}
        spacing = _vector(dataset, "PixelSpacing", 2)
        if spacing:
            parameters["pixel_spacing_mm"] = [round(value, 4) for value in spacing]
        return SliceHeader(
            member=member,
            patient_key=keyed_hash(patient, purpose="patient"),
            study_uid_hash=keyed_hash(_text(dataset, "StudyInstanceUID", 64), purpose="study-uid"),
            series_uid_hash=keyed_hash(_text(dataset, "SeriesInstanceUID", 64), purpose="series-uid"),
            series_number=_integer(dataset, "SeriesNumber"),
            description=_text(dataset, "SeriesDescription", 64),
            modality=_text(dataset, "Modality", 16),
            parameters={key: round(value, 4) if isinstance(value, float) else value for key, value in parameters.items()},
            orientation=_vector(dataset, "ImageOrientationPatient", 6),
            position=_vector(dataset, "ImagePositionPatient", 3),
            instance_number=_integer(dataset, "InstanceNumber"),
        )
    except Exception:
        return FileProblem(member.name, "The DICOM file's header is damaged and cannot be read. Skipped.")


def group_study(members: list[Member], *, max_frames: int, max_pixels: int) -> GroupedStudy:
    """Members -> one study's series, each with its slices in order; StudyRejected for mixed uploads.

    Refused as a whole (nothing may be stored): files of more than one patient, or of more than one
    examination. Skipped with a message: files that are not DICOM images. A multi-frame file gives
    one slice per frame (at most max_frames). A series whose slices lie in several planes gives one
    series per stack (split_stacks).
    """
    headers, skipped = [], []
    for member in members:
        read = read_headers(member, max_frames=max_frames, max_pixels=max_pixels)
        if isinstance(read, FileProblem):
            skipped.append(read)
        else:
            headers.extend(read)
    if not headers:
        raise StudyRejected("No file of this upload is a DICOM file NeuroScan can read. Nothing was stored.", files=skipped)
    patients = {header.patient_key for header in headers}
    if len(patients) > 1:
        raise StudyRejected(
            f"The files belong to {len(patients)} different patients (their Patient ID, name or birth date differ). "
            "Upload one patient's examination at a time. Nothing was stored.",
            files=skipped,
        )
    studies = {header.study_uid_hash for header in headers}
    if len(studies) > 1:
        raise StudyRejected(
            f"The files come from {len(studies)} different examinations (Study Instance UIDs). "
            "Upload one examination at a time. Nothing was stored.",
            files=skipped,
        )
    by_series: dict[str, list[SliceHeader]] = {}
    for header in headers:
        by_series.setdefault(header.series_uid_hash, []).append(header)
    ordered_series = sorted(
        by_series.values(), key=lambda group: (group[0].series_number is None, group[0].series_number or 0)
    )
    series = []
    for group in ordered_series:
        stacks = split_stacks(group)
        for plane, stack in stacks:
            first = stack[0]
            # A series of several stacks (a three-plane localiser) is shown as one series per stack, named by its plane.
            description = f"{first.description} ({plane})".strip()[:64] if len(stacks) > 1 else first.description
            series.append(
                SeriesGroup(
                    series_uid_hash=first.series_uid_hash,
                    number=len(series) + 1,
                    description=description,
                    modality=first.modality,
                    parameters=first.parameters,
                    slices=order_slices(stack),
                )
            )
    return GroupedStudy(study_uid_hash=headers[0].study_uid_hash, series=series, skipped=skipped)


# Slices whose planes lie within this angle are one stack (scanners round their direction cosines).
SAME_STACK_DEGREES = 10.0


def plane_name(normal: tuple[float, float, float] | None) -> str:
    """The anatomical plane a slice normal (patient coordinates: x left, y posterior, z head) is closest to."""
    if normal is None:
        return "no orientation"
    return ("sagittal", "coronal", "axial")[max(range(3), key=lambda axis: abs(normal[axis]))]


def _parallel(first, second) -> bool:
    """Two unit slice normals (None: no orientation) of one stack: within SAME_STACK_DEGREES, either way round."""
    if first is None or second is None:
        return first is second
    return abs(sum(a * b for a, b in zip(first, second))) >= math.cos(math.radians(SAME_STACK_DEGREES))


def split_stacks(headers: list[SliceHeader]) -> list[tuple[str, list[SliceHeader]]]:
    """One series' slices -> its stacks of parallel slices, each with its plane's name; the largest first.

    A three-plane localiser, or an Enhanced MR file of several stacks, is one series whose slices lie
    in different planes: ordered along one normal, they would interleave. Slices without an
    orientation make one stack of their own.
    """
    stacks: list[tuple[tuple[float, float, float] | None, list[SliceHeader]]] = []
    for header in headers:
        normal = _normal(header.orientation) if header.orientation else None
        stack = next((members for stack_normal, members in stacks if _parallel(normal, stack_normal)), None)
        if stack is None:
            stacks.append((normal, [header]))
        else:
            stack.append(header)
    named = [(plane_name(normal), members) for normal, members in stacks]
    return sorted(named, key=lambda stack: (-len(stack[1]), stack[0]))


def _normal(orientation: tuple[float, ...]) -> tuple[float, float, float] | None:
    row, column = orientation[:3], orientation[3:]
    normal = (
        row[1] * column[2] - row[2] * column[1],
        row[2] * column[0] - row[0] * column[2],
        row[0] * column[1] - row[1] * column[0],
    )
    length = math.sqrt(sum(value * value for value in normal))
    return tuple(value / length for value in normal) if length > 1e-6 else None


def order_slices(headers: list[SliceHeader]) -> list[OrderedSlice]:
    """Slices of one series in display order.

    By the position along the slice normal (Image Position (Patient) projected on the cross product
    of the orientation's direction cosines: for an axial series, feet to head) when every slice has
    one; else by Instance Number when every slice has one; else by file name. Ties keep Instance
    Number order.
    """
    orientation = next((header.orientation for header in headers if header.orientation), None)
    normal = _normal(orientation) if orientation else None
    locations = [
        sum(p * n for p, n in zip(header.position, normal)) if normal and header.position else None for header in headers
    ]
    if all(location is not None for location in locations):
        keys = [(location, header.instance_number or 0, header.member.name) for location, header in zip(locations, headers)]
    elif all(header.instance_number is not None for header in headers):
        keys = [(header.instance_number, header.member.name) for header in headers]
    else:
        keys = [(header.member.name,) for header in headers]
    order = sorted(range(len(headers)), key=lambda index: keys[index])
    return [
        OrderedSlice(
            member=headers[index].member,
            location_mm=round(locations[index], 3) if locations[index] is not None else None,
            instance_number=headers[index].instance_number,
        )
        for index in order
    ]
