"""Study writes: ingest a whole series or volume, publish its slices, finish it once, sweep the unfinished.

Each slice is stored and analysed exactly as a single upload is (scans.services: the same
de-identifying decode, the same storage, the same per-scan task). What is a study's own: the
grouping and order of slices, the limits of an upload, and the summary written once when the last
slice has finished. Logs name studies by id only, never a file name or a DICOM attribute.
"""

import logging
import uuid
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.audit import AuditAction, audit_record
from scans.errors import ScanRejected
from scans.images import DecodedImage, encode_png
from scans.models import Scan, ScanStatus
from scans.services import decode_limited_each, scan_store_decoded, scans_publish
from studies import archive
from studies.dicom_series import group_study
from studies.errors import FileProblem, StudyRejected
from studies.models import Series, Study, StudySlice, StudySource, StudyStatus
from studies.nifti import read_volume

logger = logging.getLogger(__name__)

_FINISHED = (ScanStatus.DONE, ScanStatus.FAILED)


def upload_limits() -> archive.Limits:
    return archive.Limits(
        max_files=settings.STUDIES_MAX_FILES,
        max_upload_bytes=settings.STUDIES_MAX_UPLOAD_BYTES,
        max_uncompressed_bytes=settings.STUDIES_MAX_UNCOMPRESSED_BYTES,
        max_file_bytes=settings.SCANS_MAX_UPLOAD_BYTES,
    )


# --- Ingest -----------------------------------------------------------------------------------


def _check_quota(owner: AbstractBaseUser) -> None:
    per_hour = settings.STUDIES_UPLOADS_PER_HOUR
    since = timezone.now() - timedelta(hours=1)
    if Study.objects.filter(owner=owner, created_at__gte=since).count() >= per_hour:
        raise StudyRejected(f"Too many studies: at most {per_hour} per hour. Please try again later.", code="quota")


def study_ingest(
    *,
    owner: AbstractBaseUser,
    files: list,
    patient_reference: str = "",
    note: str = "",
    request: HttpRequest | None = None,
) -> Study:
    """Validate, group, order, de-identify and store a study upload; its slices' tasks are sent on commit.

    `files`: Django UploadedFiles: many DICOM files, one zip of them, or one NIfTI volume.
    Raises StudyRejected (a message, and each file's own problem) with nothing stored: no row, no
    file, no task. Files that are not usable images are skipped and listed on the study
    (Study.skipped); a series keeps its good slices.
    """
    _check_quota(owner)  # early: a user over quota does not make the server unpack anything
    upload = archive.read_upload(files, limits=upload_limits())
    skipped = list(upload.skipped)
    if upload.kind == "nifti":
        series, source, study_uid_hash = _volume_series(upload), StudySource.NIFTI, ""
    else:
        grouped = group_study(upload.members, max_frames=settings.STUDIES_MAX_SLICES, max_pixels=settings.SCANS_MAX_PIXELS)
        skipped += grouped.skipped
        series, source, study_uid_hash = _decoded_series(grouped, skipped), StudySource.DICOM, grouped.study_uid_hash
    slice_count = sum(len(entry["slices"]) for entry in series)
    if slice_count == 0:
        raise StudyRejected("No file of this upload is an image NeuroScan can read. Nothing was stored.", files=skipped)
    if slice_count > settings.STUDIES_MAX_SLICES:
        raise StudyRejected(
            f"The upload holds {slice_count} slices; a study takes at most {settings.STUDIES_MAX_SLICES}. Nothing was stored.",
            code="too_large",
            files=skipped,
        )
    return _study_store(
        owner=owner,
        source=source,
        original_name=upload.name,
        study_uid_hash=study_uid_hash,
        series=series,
        skipped=skipped,
        patient_reference=patient_reference.strip(),
        note=note.strip(),
        request=request,
    )


def _decoded_series(grouped, skipped: list[FileProblem]) -> list[dict]:
    """Each ordered DICOM file decoded and de-identified by the scans ingest path; bad slices are skipped."""
    ordered = [item for group in grouped.series for item in group.slices]
    decoded_all = iter(decode_limited_each([item.member.data for item in ordered]))
    series = []
    for group in grouped.series:
        slices = []
        for item in group.slices:
            decoded = next(decoded_all)
            item.member.data = b""  # the raw file (with its PHI) is not needed any more
            if isinstance(decoded, ScanRejected):
                skipped.append(FileProblem(item.member.name, f"{decoded.message} Skipped."))
                continue
            slices.append({"name": item.member.name, "decoded": decoded, "location_mm": item.location_mm,
                           "instance_number": item.instance_number})  # fmt: skip
        if slices:
            series.append({"uid_hash": group.series_uid_hash, "description": group.description,
                           "modality": group.modality, "parameters": group.parameters, "slices": slices})  # fmt: skip
    return series


def _volume_series(upload: archive.Upload) -> list[dict]:
    member = upload.members[0]
    volume = read_volume(
        member.data,
        max_slices=settings.STUDIES_MAX_SLICES,
        max_pixels=settings.SCANS_MAX_PIXELS,
        max_voxels=settings.STUDIES_MAX_UNCOMPRESSED_BYTES // 4,  # read as float32
    )
    slices = []
    for index, pixels in enumerate(volume.slices):
        decoded = DecodedImage(format="png", stored_bytes=encode_png(pixels), display=pixels)
        slices.append({"name": f"{member.name} — axial slice {index + 1}", "decoded": decoded,
                       "location_mm": None, "instance_number": None})  # fmt: skip
    return [{"uid_hash": "", "description": "Axial", "modality": "", "parameters": volume.parameters, "slices": slices}]


def _study_store(
    *,
    owner: AbstractBaseUser,
    source: str,
    original_name: str,
    study_uid_hash: str,
    series: list[dict],
    skipped: list[FileProblem],
    patient_reference: str,
    note: str,
    request: HttpRequest | None,
) -> Study:
    written: list[str] = []
    try:
        with transaction.atomic():
            # One upload at a time per user, so that parallel requests cannot overrun the quota.
            get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
            _check_quota(owner)
            study = Study(
                id=uuid.uuid4(),
                owner=owner,
                source=source,
                original_name=original_name[:255],
                study_uid_hash=study_uid_hash,
                patient_reference=patient_reference,
                note=note,
                skipped=[problem.as_dict() for problem in skipped],
                status=StudyStatus.ANALYSING,
            )
            study.full_clean()
            study.save(force_insert=True)
            for number, entry in enumerate(series, start=1):
                row = Series(study=study, number=number, series_uid_hash=entry["uid_hash"],
                             description=entry["description"], modality=entry["modality"],
                             parameters=entry["parameters"])  # fmt: skip
                row.full_clean()
                row.save()
                for position, item in enumerate(entry["slices"]):
                    scan = scan_store_decoded(owner=owner, decoded=item["decoded"], original_name=item["name"][:255],
                                              patient_reference=patient_reference, written=written,
                                              part_of_study=True)  # fmt: skip
                    StudySlice.objects.create(series=row, scan=scan, position=position,
                                              location_mm=item["location_mm"], instance_number=item["instance_number"])  # fmt: skip
            audit_record(action=AuditAction.UPLOAD, actor=owner, request=request, object_type="study", object_id=study.id)
            transaction.on_commit(partial(study_publish, study_id=study.id))
    except BaseException:
        # The rows are rolled back; the files must not outlive them.
        for name in written:
            default_storage.delete(name)
        raise
    logger.info("Study %s stored (%s, %d series, %d slices, %d skipped), queued.", study.id, source, len(series),
                sum(len(entry["slices"]) for entry in series), len(skipped))  # fmt: skip
    return study


# --- Publishing ---------------------------------------------------------------------------------


def study_publish(*, study_id: uuid.UUID | str) -> int:
    """Send every unfinished slice's task (studies.tasks.analyse_slice: its analysis, then the finish check).

    Returns how many were sent. A slice the broker did not take stays queued: the scans sweep sends
    it later, and the studies sweep finishes the study when it is done.
    """
    from studies.tasks import analyse_slice

    pending = Scan.objects.filter(study_slice__series__study_id=study_id).exclude(status__in=_FINISHED)
    scan_ids = list(pending.order_by("study_slice__series__number", "study_slice__position").values_list("id", flat=True))
    return scans_publish(scan_ids=scan_ids, task=analyse_slice, extra_args=(str(study_id),))


# --- Finishing ----------------------------------------------------------------------------------


def study_finish(*, study_id: uuid.UUID | str) -> str:
    """Write the study's summary if every slice has finished; exactly once. Returns what happened.

    Called after each slice's analysis (studies.tasks) and by the sweep, so many times per study, in
    parallel on several workers. The summary is computed, then written by one conditional UPDATE
    (status analysing -> done): whichever call gets there first writes it, on any database; every
    other call changes nothing. "waiting": some slice is unfinished; "done": already summarised.
    """
    from studies.summary import study_summary

    # Most calls come from a slice that is not the last: one query answers those.
    if Scan.objects.filter(study_slice__series__study_id=study_id).exclude(status__in=_FINISHED).exists():
        return "waiting"
    study = Study.objects.filter(pk=study_id).first()
    if study is None:
        logger.warning("Study %s no longer exists; nothing to finish.", study_id)
        return "missing"
    if study.status == StudyStatus.DONE:
        return "done"
    summary = study_summary(study=study)
    with transaction.atomic():
        won = Study.objects.filter(pk=study.id, status=StudyStatus.ANALYSING).update(
            status=StudyStatus.DONE, summary=summary, summarised_at=timezone.now(), updated_at=timezone.now()
        )
    if not won:
        return "done"
    logger.info("Study %s summarised (%s).", study.id, summary["state"])
    return "summarised"


def studies_sweep() -> dict[str, int]:
    """Periodic: finish studies whose slices all finished without a finish check; reopen retried ones.

    A slice sent again by the scans sweep (broker down at upload, a worker died) is analysed by the
    scans' own task, which knows nothing of studies, so its study is finished here. A study whose
    slice was retried by its owner after the summary is analysing again: its summary is written
    anew when that slice finishes.
    """
    counts = {"summarised": 0, "reopened": 0}
    unfinished = Scan.objects.exclude(status__in=_FINISHED).values("study_slice__series__study_id")
    reopened = Study.objects.filter(status=StudyStatus.DONE, pk__in=unfinished).update(
        status=StudyStatus.ANALYSING, summary=None, summarised_at=None, updated_at=timezone.now()
    )
    counts["reopened"] = reopened
    candidates = Study.objects.filter(status=StudyStatus.ANALYSING).exclude(pk__in=unfinished)
    for study_id in candidates.order_by("created_at").values_list("id", flat=True)[: settings.SCANS_SWEEP_BATCH]:
        if study_finish(study_id=study_id) == "summarised":
            counts["summarised"] += 1
    if any(counts.values()):
        logger.info("Studies sweep: %(summarised)d summarised, %(reopened)d reopened.", counts)
    return counts
