"""Scan writes: ingest an upload, publish its task, analyse it, fail it, retry it, sweep the stuck ones.

Every write runs in one transaction and is safe to repeat; side effects (the Celery message)
are sent on commit. Logs name scans by id only: never file names, patient references,
DICOM attributes or pixels.
"""

import hashlib
import logging
import os
import time
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from accounts.audit import AuditAction, audit_record

from scans.errors import AnalysisFailed, ScanRejected
from scans.images import DecodedImage, decode_upload, encode_png, encode_thumbnail, heat_to_grey, read_display_png
from scans.models import Prediction, Scan, ScanStatus
from scans.sandbox import run_limited, run_limited_each
from scans.selectors import single_uploads

logger = logging.getLogger(__name__)

# --- Ingest -------------------------------------------------------------------------------

DEFERRED_MESSAGE = (
    "Not processed yet: this request had already decoded as much as one request may. "
    "Nothing was stored for this file; send it again in a new request."
)


@dataclass
class UploadBudget:
    """How much decoding one request may do, so a legal but large batch cannot outlive the web server's timeout.

    Files past the budget are refused as "deferred" (nothing stored, send again); the client is
    told which, so it never has to guess what exists.
    """

    seconds: float
    pixels: int
    started: float = field(default_factory=time.monotonic)
    used_pixels: int = 0

    @classmethod
    def for_request(cls) -> "UploadBudget":
        return cls(seconds=settings.SCANS_REQUEST_DECODE_SECONDS, pixels=settings.SCANS_REQUEST_MAX_PIXELS)

    def check(self) -> None:
        if time.monotonic() - self.started > self.seconds or self.used_pixels >= self.pixels:
            raise ScanRejected(DEFERRED_MESSAGE, code="deferred")

    def charge(self, pixels: int) -> None:
        self.used_pixels += pixels


def scan_ingest(
    *,
    owner: AbstractBaseUser,
    uploaded_file: UploadedFile,
    patient_reference: str = "",
    note: str = "",
    request: HttpRequest | None = None,
    budget: UploadBudget | None = None,
) -> Scan:
    """Validate, decode, de-identify and store one upload as a queued Scan; its task is sent on commit.

    Idempotent: the same bytes from the same owner within SCANS_DUPLICATE_WINDOW_SECONDS are
    answered with the scan already made (a client retrying after a lost answer duplicates nothing).
    Raises ScanRejected (message for the user) with nothing stored: no row, no file, no task.
    """
    size = uploaded_file.size or 0
    if size == 0:
        raise ScanRejected("The file is empty.")
    limit = settings.SCANS_MAX_UPLOAD_BYTES
    if size > limit:
        raise ScanRejected(
            f"The file is {_megabytes(size)}; the limit is {_megabytes(limit)} per file.", code="too_large"
        )
    data = _read_upload(uploaded_file, limit)
    upload_sha256 = hashlib.sha256(data).hexdigest()
    existing = _recent_duplicate(owner=owner, upload_sha256=upload_sha256)
    if existing is not None:
        return existing
    _check_quota(owner)  # early, so a user over quota does not make the server decode anything
    if budget is not None:
        budget.check()
    decoded = decode_limited(data)
    if budget is not None:
        budget.charge(decoded.width * decoded.height)
    return _scan_store(
        owner=owner,
        decoded=decoded,
        upload_sha256=upload_sha256,
        original_name=clean_file_name(uploaded_file.name or ""),
        patient_reference=patient_reference.strip(),
        note=note.strip(),
        request=request,
    )


def _read_upload(uploaded_file: UploadedFile, limit: int) -> bytes:
    uploaded_file.seek(0)
    data = uploaded_file.read(limit + 1)  # the declared size can lie; never read more than the limit
    if len(data) > limit:
        raise ScanRejected(f"The file is larger than the limit of {_megabytes(limit)} per file.", code="too_large")
    return data


def decode_limited(data: bytes) -> DecodedImage:
    """decode_upload in a child process under a memory ceiling and a deadline (scans.sandbox).

    Every upload path decodes through this (single files) or decode_limited_each (a study's slices), never in
    the web process.
    """
    return run_limited(
        decode_upload,
        data,
        max_pixels=settings.SCANS_MAX_PIXELS,
        memory_bytes=settings.SCANS_DECODE_MEMORY_MB * 1024 * 1024,
        seconds=settings.SCANS_DECODE_SECONDS,
    )


def decode_limited_each(datas: list[bytes]) -> list[DecodedImage | ScanRejected]:
    """decode_limited for many files (a study's slices), in order: each file under the same limits, one child for the lot."""
    return run_limited_each(
        partial(decode_upload, max_pixels=settings.SCANS_MAX_PIXELS),
        datas,
        memory_bytes=settings.SCANS_DECODE_MEMORY_MB * 1024 * 1024,
        seconds=settings.SCANS_DECODE_SECONDS,
    )


def _recent_duplicate(*, owner: AbstractBaseUser, upload_sha256: str) -> Scan | None:
    since = timezone.now() - timedelta(seconds=settings.SCANS_DUPLICATE_WINDOW_SECONDS)
    scan = Scan.objects.filter(owner=owner, upload_sha256=upload_sha256, created_at__gte=since).order_by("created_at").first()
    if scan is not None:
        logger.info("Scan %s: the same file again from its owner; answered with the existing scan.", scan.id)
    return scan


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def clean_file_name(name: str) -> str:
    """The user's file name for display only: base name, no control characters, at most 255 characters."""
    base = os.path.basename(name.replace("\\", "/"))
    printable = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return (printable or "unnamed")[:255]


def _check_quota(owner: AbstractBaseUser) -> None:
    per_hour = settings.SCANS_UPLOADS_PER_HOUR
    since = timezone.now() - timedelta(hours=1)
    # A study's slices do not count: a study upload has its own quota (studies.services).
    if single_uploads().filter(owner=owner, created_at__gte=since).count() >= per_hour:
        raise ScanRejected(
            f"Too many uploads: at most {per_hour} files per hour. Please try again later.", code="quota"
        )


def _scan_store(
    *,
    owner: AbstractBaseUser,
    decoded: DecodedImage,
    upload_sha256: str,
    original_name: str,
    patient_reference: str,
    note: str,
    request: HttpRequest | None,
) -> Scan:
    written: list[str] = []
    try:
        with transaction.atomic():
            # One upload at a time per user, so that parallel requests cannot overrun the quota.
            get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
            existing = _recent_duplicate(owner=owner, upload_sha256=upload_sha256)
            if existing is not None:  # a parallel retry of the same file won the lock
                return existing
            _check_quota(owner)
            scan = scan_store_decoded(owner=owner, decoded=decoded, original_name=original_name, upload_sha256=upload_sha256,
                                      patient_reference=patient_reference, note=note, written=written)  # fmt: skip
            audit_record(action=AuditAction.UPLOAD, actor=owner, request=request, object_type="scan", object_id=scan.id)
            transaction.on_commit(partial(scan_publish, scan_id=scan.id))
    except BaseException:
        # The row is rolled back; the files must not outlive it.
        for name in written:
            default_storage.delete(name)
        raise
    logger.info("Scan %s stored (%s, %dx%d), queued.", scan.id, scan.format, scan.width, scan.height)
    return scan


def scan_store_decoded(
    *,
    owner: AbstractBaseUser,
    decoded: DecodedImage,
    original_name: str,
    written: list[str],
    patient_reference: str = "",
    note: str = "",
    upload_sha256: str = "",
    part_of_study: bool = False,
) -> Scan:
    """Store one decoded (and, for DICOM, de-identified) image's files and its queued Scan row.

    Runs inside the caller's transaction; the caller owns the quota, the audit row and publishing
    (a single upload above, or a study's ingest for each of its slices, with part_of_study). The
    names of the files written are appended to `written`, so that the caller deletes them if its
    transaction fails.
    """
    storage = default_storage
    scan_id = uuid.uuid4()
    folder = f"scans/{scan_id.hex[:2]}/{scan_id}"  # server-generated names only

    def save(name: str, content: bytes) -> str:
        stored = storage.save(f"{folder}/{name}", ContentFile(content))
        written.append(stored)
        return stored

    scan = Scan(
        id=scan_id,
        owner=owner,
        original_name=original_name,
        sha256=hashlib.sha256(decoded.stored_bytes).hexdigest(),
        upload_sha256=upload_sha256,
        size_bytes=len(decoded.stored_bytes),
        format=decoded.format,
        width=decoded.width,
        height=decoded.height,
        deidentified=decoded.deidentified,
        patient_reference=patient_reference,
        note=note,
        part_of_study=part_of_study,
        status=ScanStatus.QUEUED,
    )
    scan.file.name = save(f"original.{decoded.stored_extension}", decoded.stored_bytes)
    scan.display.name = save("display.png", encode_png(decoded.display))
    scan.thumbnail.name = save("thumbnail.png", encode_thumbnail(decoded.display))
    scan.full_clean()
    scan.save(force_insert=True)
    return scan


# --- Publishing and the sweep ---------------------------------------------------------------


def scan_publish(*, scan_id: uuid.UUID | str) -> bool:
    """Send the analysis task for one scan (its id only). False, and the scan stays queued, if the broker is down."""
    return scans_publish(scan_ids=[scan_id]) == 1


def scans_publish(*, scan_ids: list, task=None, extra_args: tuple = ()) -> int:
    """Send the analysis task of each scan in order, then record them as enqueued in one UPDATE. Returns how many were sent.

    `task`: scans.analyse unless the caller has its own task that analyses a scan (a study's
    slice, studies.tasks), called with (scan id, *extra_args). Stops at the first message the
    broker refuses: those scans stay queued and the periodic sweep sends them later. retry=False
    and the broker's short connect timeouts (settings) bound the time a request can spend here.
    One UPDATE for the lot, not one per message: a study's 150 slices are 150 messages but one
    write, which matters to a database the workers are writing to at the same time.
    """
    if task is None:
        from scans.tasks import analyse_scan as task

    sent = []
    for scan_id in scan_ids:
        try:
            task.apply_async(args=[str(scan_id), *extra_args], retry=False, ignore_result=True)
        except Exception as error:  # kombu.exceptions.OperationalError, socket and file errors of the transports
            logger.warning("Scan %s stays queued: the broker did not take its task (%s).", scan_id, type(error).__name__)
            break
        sent.append(scan_id)
    if sent:
        Scan.objects.filter(pk__in=sent, status__in=(ScanStatus.QUEUED, ScanStatus.PROCESSING)).update(
            enqueued_at=timezone.now()
        )
    return len(sent)


def scans_sweep(*, now=None) -> dict[str, int]:
    """Re-send the tasks of scans that no worker is known to be handling; fail those that keep dying.

    Picks scans queued whose message was never sent (broker down at upload) or was sent more than
    SCANS_STUCK_AFTER_SECONDS ago, and scans processing for longer than that (their worker died),
    at most once per SCANS_STUCK_AFTER_SECONDS each.
    A scan whose worker died SCANS_MAX_ATTEMPTS times is failed instead of being sent again.
    """
    now = now or timezone.now()
    deadline = now - timedelta(seconds=settings.SCANS_STUCK_AFTER_SECONDS)
    stuck = Scan.objects.filter(
        Q(status=ScanStatus.QUEUED, enqueued_at__isnull=True)
        | Q(status=ScanStatus.QUEUED, enqueued_at__lt=deadline)
        # Processing for too long, and not already sent again within the deadline (a busy queue
        # must not collect one more duplicate every sweep).
        | Q(status=ScanStatus.PROCESSING, processing_started_at__lt=deadline)
        & (Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=deadline))
    ).order_by("created_at")
    counts = {"sent": 0, "unsent": 0, "failed": 0}
    for scan_id, status, attempts in stuck.values_list("id", "status", "attempts")[: settings.SCANS_SWEEP_BATCH]:
        if status == ScanStatus.PROCESSING and attempts >= settings.SCANS_MAX_ATTEMPTS:
            scan_fail(
                scan_id=scan_id,
                reason=f"The analysis was interrupted {attempts} times before it could finish. Use Retry to try again.",
            )
            counts["failed"] += 1
        elif scan_publish(scan_id=scan_id):
            counts["sent"] += 1
        else:
            counts["unsent"] += 1
            break  # the broker is down: the next sweep tries again
    if any(counts.values()):
        logger.info("Sweep: %(sent)d scans sent again, %(unsent)d not sent, %(failed)d failed.", counts)
    return counts


# --- Analysis (the worker's side) -------------------------------------------------------------


def _default_classifier():
    from ml.inference import get_classifier  # loaded once per worker process, on first use

    return get_classifier()


def scan_analyse(*, scan_id: uuid.UUID | str, classifier_factory: Callable | None = None) -> str:
    """Run the model on one scan and store its Prediction; idempotent. Returns what happened.

    Deterministic problems (damaged stored image, image the model refuses) end in `failed` with a
    reason. Transient ones (database, storage) propagate, so that the task retries them.
    """
    scan = _scan_start(scan_id=scan_id)
    if scan is None:
        return "skipped"
    try:
        pixels = _read_display(scan)  # before the model: a damaged file should not wait for TensorFlow
        classifier = (classifier_factory or _default_classifier)()
        version = getattr(classifier, "model_version", None)
        if version and Prediction.objects.filter(scan_id=scan.id, model_version=version).exists():
            _scan_mark_done(scan_id=scan.id)  # a previous run stored it, then died before saying so
            return "done"
        try:
            result, explanation = classifier.analyse(pixels)
        except ValueError as error:  # ml's documented error for input it cannot use
            raise AnalysisFailed(f"The model could not read this image: {error}") from None
        except (MemoryError, RecursionError, ArithmeticError, TypeError, IndexError, KeyError, AssertionError) as error:
            logger.error("Scan %s: the model raised %s.", scan.id, type(error).__name__)
            raise AnalysisFailed("The analysis stopped on an internal error. Use Retry to try again.") from None
    except AnalysisFailed as failure:
        scan_fail(scan_id=scan.id, reason=failure.reason)
        return "failed"
    if explanation is None:  # a refusal: nothing is drawn over an image the model did not judge
        _prediction_store(scan_id=scan.id, result=result)
    else:
        _prediction_store(scan_id=scan.id, result=result, overlay_png=encode_png(explanation.overlay),
                          heat_png=encode_png(heat_to_grey(explanation.heatmap)))  # fmt: skip
    return "done"


def _read_display(scan: Scan):
    try:
        with default_storage.open(scan.display.name, "rb") as stored:
            data = stored.read()
    except FileNotFoundError:
        raise AnalysisFailed("The stored image is missing, so it cannot be analysed. Please upload it again.") from None
    try:
        return read_display_png(data)
    except ValueError:
        raise AnalysisFailed("The stored image is damaged and cannot be analysed. Please upload it again.") from None


@transaction.atomic
def _scan_start(*, scan_id) -> Scan | None:
    """queued/processing -> processing (a worker died mid-run: start again). None when there is nothing to do."""
    scan = Scan.objects.select_for_update().filter(pk=scan_id).first()
    if scan is None:
        logger.warning("Scan %s no longer exists; nothing to analyse.", scan_id)
        return None
    if scan.status in (ScanStatus.DONE, ScanStatus.FAILED):
        return None  # a duplicate message: the first one finished the job
    scan.status = ScanStatus.PROCESSING
    scan.processing_started_at = timezone.now()
    scan.attempts += 1
    _save_checked(scan, ["status", "processing_started_at", "attempts", "updated_at"])
    logger.info("Scan %s processing (attempt %d).", scan.id, scan.attempts)
    return scan


def _prediction_store(*, scan_id, result, overlay_png: bytes | None = None, heat_png: bytes | None = None) -> None:
    storage = default_storage
    stem = f"scans/{str(scan_id)[:2]}/{scan_id}"
    run = uuid.uuid4().hex[:12]
    heatmap_name = storage.save(f"{stem}/heatmap-{run}.png", ContentFile(overlay_png)) if overlay_png is not None else ""
    heat_name = storage.save(f"{stem}/heat-{run}.png", ContentFile(heat_png)) if heat_png is not None else ""
    try:
        with transaction.atomic():
            scan = Scan.objects.select_for_update().get(pk=scan_id)
            if Prediction.objects.filter(scan=scan, model_version=result.model_version).exists():
                raise _AlreadyStored
            prediction = Prediction(
                scan=scan,
                model_version=result.model_version,
                label=result.label,
                probabilities={name: float(value) for name, value in result.probabilities.items()},
                confidence=float(result.confidence),
                abstained=bool(result.abstained),
                abstain_reason=(result.abstain_reason or "")[:500],
                abstain_kind=result.abstain_kind or "",
                technical_detail=(result.technical_detail or "")[:500],
                timings_ms={name: float(value) for name, value in result.timings_ms.items()},
            )
            prediction.heatmap.name = heatmap_name
            prediction.heat.name = heat_name
            # The scan is locked above; uniqueness and constraints are the database's job (IntegrityError below).
            prediction.full_clean(exclude=["scan"], validate_unique=False, validate_constraints=False)
            prediction.save()
            _finish(scan, ScanStatus.DONE)
    except (_AlreadyStored, IntegrityError):
        # Another run of the same scan and model won the race: its prediction stands, ours goes.
        _delete_files(storage, heatmap_name, heat_name)
        _scan_mark_done(scan_id=scan_id)
    except BaseException:
        _delete_files(storage, heatmap_name, heat_name)
        raise
    logger.info("Scan %s done.", scan_id)


def _delete_files(storage, *names: str) -> None:
    for name in names:
        if name:
            storage.delete(name)


class _AlreadyStored(Exception):
    pass


def _finish(scan: Scan, status: str, reason: str = "") -> None:
    scan.status = status
    scan.failure_reason = reason
    scan.finished_at = timezone.now()
    _save_checked(scan, ["status", "failure_reason", "finished_at", "updated_at"])


def _save_checked(instance, fields: list[str]) -> None:
    """Validate the fields being written, then write only those.

    full_clean would also look the owner up in the database on each status change of each slice
    (with the prediction's own check, three queries a slice: `python -m studies.bench`).
    """
    instance.clean_fields(exclude={field.name for field in instance._meta.concrete_fields} - set(fields))
    instance.save(update_fields=fields)


@transaction.atomic
def _scan_mark_done(*, scan_id) -> None:
    scan = Scan.objects.select_for_update().filter(pk=scan_id).first()
    if scan is not None and scan.status != ScanStatus.DONE and scan.predictions.exists():
        _finish(scan, ScanStatus.DONE)


@transaction.atomic
def scan_fail(*, scan_id, reason: str) -> None:
    """Mark a scan failed with a reason a person can read; a finished scan is left as it is."""
    scan = Scan.objects.select_for_update().filter(pk=scan_id).first()
    if scan is None or scan.is_finished:
        return
    _finish(scan, ScanStatus.FAILED, reason[:500])
    logger.info("Scan %s failed.", scan_id)


@transaction.atomic
def scan_retry(*, scan: Scan) -> bool:
    """Queue a failed scan again (its task is sent on commit). False, changing nothing, unless it had failed."""
    locked = Scan.objects.select_for_update().get(pk=scan.pk)
    if locked.status != ScanStatus.FAILED:
        return False
    locked.status = ScanStatus.QUEUED
    locked.failure_reason = ""
    locked.finished_at = None
    locked.enqueued_at = None
    locked.processing_started_at = None
    locked.attempts = 0
    locked.full_clean()
    locked.save()
    transaction.on_commit(partial(scan_publish, scan_id=locked.id))
    logger.info("Scan %s queued again by its owner.", locked.id)
    return True
