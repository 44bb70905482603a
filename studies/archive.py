"""Turn a study upload (many files, one zip, or one NIfTI volume) into bounded in-memory members.

Pure functions over bytes: no Django models, no storage. Nothing is ever written to disk under a
name taken from the upload, so a hostile member name cannot escape anywhere; such names are still
reported, because they mean the archive is not what it claims to be. Everything is bounded before
it is read: the number of files, the bytes sent and the bytes an archive unpacks to (zip bombs).
"""

import gzip
import io
import posixpath
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field

from studies.errors import FileProblem, StudyRejected

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or the end record of an empty zip
GZIP_MAGIC = b"\x1f\x8b"
_OTHER_ARCHIVE_MAGIC = (b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07", b"BZh", b"\xfd7zXZ\x00")
_ARCHIVE_SUFFIXES = (".zip", ".gz", ".tgz", ".tar", ".7z", ".rar", ".bz2", ".xz")
# Files that operating systems add to archives on their own; not the user's data, not worth a line each.
_SYSTEM_JUNK = ("__MACOSX/", ".DS_Store", "Thumbs.db", "desktop.ini")
_CHUNK = 1024 * 1024

NESTED_ARCHIVE = "An archive inside the archive is not opened: unpack it and upload its files. Skipped."


@dataclass(frozen=True)
class Limits:
    max_files: int  # files in one upload (parts or members)
    max_upload_bytes: int  # bytes sent, all files together
    max_uncompressed_bytes: int  # bytes an archive or gzip may unpack to, all members together
    max_file_bytes: int  # one DICOM file (the single-upload limit)


@dataclass
class Member:
    name: str  # as the user knows it (path inside the zip, cleaned): display only
    data: bytes


@dataclass
class Upload:
    """What an upload holds: DICOM candidates, or one NIfTI volume; plus the files that were skipped."""

    kind: str  # "dicom" or "nifti"
    name: str  # the upload's name for the user: the zip's or volume's, or "12 files"
    members: list[Member] = field(default_factory=list)
    skipped: list[FileProblem] = field(default_factory=list)


def display_name(name: str) -> str:
    """A file or member name for display only: no control characters, at most 255 characters."""
    printable = "".join(ch for ch in name.replace("\\", "/") if unicodedata.category(ch)[0] != "C").strip()
    return (printable or "unnamed")[-255:]


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def is_nifti(data: bytes) -> bool:
    """NIfTI-1 (.nii: sizeof_hdr 348, magic "n+1" at 344) or NIfTI-2 (540, "n+2" at 4), either byte order."""
    if len(data) >= 348 and data[344:348] == b"n+1\x00":
        return data[:4] in ((348).to_bytes(4, "little"), (348).to_bytes(4, "big"))
    if len(data) >= 540 and data[4:8] == b"n+2\x00":
        return data[:4] in ((540).to_bytes(4, "little"), (540).to_bytes(4, "big"))
    return False


def _is_archive(name: str, data: bytes) -> bool:
    return (
        data.startswith(ZIP_MAGIC)
        or data.startswith(GZIP_MAGIC)
        or data.startswith(_OTHER_ARCHIVE_MAGIC)
        or data[257:262] == b"ustar"
        or name.lower().endswith(_ARCHIVE_SUFFIXES)
    )


def read_upload(files: list, *, limits: Limits) -> Upload:
    """Uploaded files (Django UploadedFile-like: .name, .size, .read, .seek) -> Upload, or StudyRejected.

    One zip: its members. One NIfTI (.nii or .nii.gz): the volume. Otherwise each file is a DICOM
    candidate; a zip or volume among several files is skipped (send it on its own).
    """
    if not files:
        raise StudyRejected("Send the study's DICOM files, one zip of them, or one NIfTI volume.")
    if len(files) > limits.max_files:
        raise StudyRejected(
            f"{len(files)} files were sent; a study takes at most {limits.max_files}. Nothing was stored.", code="too_large"
        )
    declared = sum(uploaded.size or 0 for uploaded in files)
    if declared > limits.max_upload_bytes:
        raise StudyRejected(
            f"The upload is {_megabytes(declared)}; a study takes at most {_megabytes(limits.max_upload_bytes)}. "
            "Nothing was stored.",
            code="too_large",
        )
    if len(files) == 1:
        uploaded = files[0]
        name = display_name(uploaded.name or "")
        data = _read(uploaded, limits.max_upload_bytes)
        if not data:
            raise StudyRejected("The file is empty.")
        if len(data) > limits.max_upload_bytes:
            raise StudyRejected(
                f"The upload is larger than {_megabytes(limits.max_upload_bytes)}, the limit for one study. Nothing was stored.",
                code="too_large",
            )
        if data.startswith(ZIP_MAGIC):
            return _unpack_zip(data, name=name, limits=limits)
        if data.startswith(GZIP_MAGIC):
            return Upload(kind="nifti", name=name, members=[Member(name, _gunzip_nifti(data, limits=limits))])
        if is_nifti(data):
            return Upload(kind="nifti", name=name, members=[Member(name, data)])
        if len(data) > limits.max_file_bytes:
            raise StudyRejected(
                f"The file is larger than {_megabytes(limits.max_file_bytes)}, the limit per DICOM file. Nothing was stored.",
                code="too_large",
            )
        return Upload(kind="dicom", name=name, members=[Member(name, data)])
    upload = Upload(kind="dicom", name=f"{len(files)} files")
    for uploaded in files:
        name = display_name(uploaded.name or "")
        data = _read(uploaded, limits.max_file_bytes)
        if len(data) > limits.max_file_bytes:
            upload.skipped.append(FileProblem(name, f"Larger than the limit of {_megabytes(limits.max_file_bytes)} per file. Skipped."))
        elif _is_archive(name, data) or is_nifti(data):
            upload.skipped.append(FileProblem(name, "A zip or a NIfTI volume is uploaded on its own, not among other files. Skipped."))
        else:
            upload.members.append(Member(name, data))
    return upload


def _read(uploaded, limit: int) -> bytes:
    """At most limit + 1 bytes: the declared size can lie, and one byte more is enough to know."""
    uploaded.seek(0)
    return uploaded.read(limit + 1)


def _gunzip_nifti(data: bytes, *, limits: Limits) -> bytes:
    """A .nii.gz -> the .nii bytes, never inflating more than the limit (a gzip bomb is refused)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            volume = stream.read(limits.max_uncompressed_bytes + 1)
    except (OSError, EOFError, zlib.error):
        raise StudyRejected("The gzip file is damaged or incomplete and cannot be read.") from None
    if len(volume) > limits.max_uncompressed_bytes:
        raise StudyRejected(
            f"The file unpacks to more than {_megabytes(limits.max_uncompressed_bytes)}, the limit for one study. "
            "Nothing was stored.",
            code="too_large",
        )
    if not is_nifti(volume):
        raise StudyRejected("This gzip file does not hold a NIfTI volume (.nii.gz). Nothing was stored.")
    return volume


# --- Zip -------------------------------------------------------------------------------------------


def _unsafe_path(name: str) -> bool:
    """Absolute, drive-lettered or climbing (..) member names: an archive made to escape its folder."""
    normal = name.replace("\\", "/")
    if normal.startswith("/") or (len(normal) > 1 and normal[1] == ":") or "\x00" in normal:
        return True
    return ".." in posixpath.normpath(normal).split("/") or ".." in normal.split("/")


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return (info.external_attr >> 16) & 0o170000 == 0o120000


def _is_junk(name: str) -> bool:
    base = posixpath.basename(name)
    return name.startswith("__MACOSX/") or "/__MACOSX/" in name or base.startswith("._") or base in _SYSTEM_JUNK


def _unpack_zip(data: bytes, *, name: str, limits: Limits) -> Upload:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise StudyRejected("The zip file is damaged or incomplete and cannot be read.") from None
    files = [info for info in infos if not info.is_dir() and not _is_junk(info.filename)]
    if not files:
        raise StudyRejected("The zip file holds no files.")
    if len(files) > limits.max_files:
        raise StudyRejected(
            f"The zip file holds {len(files)} files; a study takes at most {limits.max_files}. Nothing was stored.",
            code="too_large",
        )
    bomb = StudyRejected(
        f"The zip file unpacks to more than {_megabytes(limits.max_uncompressed_bytes)}, the limit for one study "
        "(or it is built to unpack without end). Nothing was stored.",
        code="too_large",
    )
    if sum(info.file_size for info in files) > limits.max_uncompressed_bytes:
        raise bomb
    upload = Upload(kind="dicom", name=name)
    budget = limits.max_uncompressed_bytes
    for info in files:
        member_name = display_name(info.filename)
        problem = _member_problem(info, limits)
        if problem:
            upload.skipped.append(FileProblem(member_name, problem))
            continue
        try:
            content = _read_member(archive, info, cap=min(budget, limits.max_file_bytes))
        except _OverCap:
            # The declared size lied (it was checked above): a crafted archive, not a damaged one.
            raise bomb from None
        except NotImplementedError:
            upload.skipped.append(FileProblem(member_name, "Compressed with a method that cannot be read here. Skipped."))
            continue
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError):
            upload.skipped.append(FileProblem(member_name, "Damaged inside the zip file (it cannot be unpacked). Skipped."))
            continue
        budget -= len(content)
        if _is_archive(info.filename, content):
            upload.skipped.append(FileProblem(member_name, NESTED_ARCHIVE))
        elif is_nifti(content):
            upload.skipped.append(FileProblem(member_name, "A NIfTI volume inside a zip is not read: upload the .nii or .nii.gz itself. Skipped."))
        else:
            upload.members.append(Member(member_name, content))
    return upload


def _member_problem(info: zipfile.ZipInfo, limits: Limits) -> str:
    if _unsafe_path(info.filename):
        return "Its name points outside the archive (an absolute path or '..'): refused for safety. Skipped."
    if _is_symlink(info):
        return "A symbolic link, not a file. Skipped."
    if info.flag_bits & 0x1:
        return "Encrypted (password-protected) files cannot be read. Skipped."
    if info.filename.lower().endswith(_ARCHIVE_SUFFIXES):
        return NESTED_ARCHIVE
    if info.file_size > limits.max_file_bytes:
        return f"Larger than the limit of {_megabytes(limits.max_file_bytes)} per file. Skipped."
    if info.file_size == 0:
        return "Empty. Skipped."
    return ""


class _OverCap(Exception):
    pass


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, cap: int) -> bytes:
    """Inflate one member, stopping as soon as it passes `cap` bytes (a lying size header)."""
    chunks, total = [], 0
    with archive.open(info) as stream:
        while True:
            chunk = stream.read(min(_CHUNK, cap + 1 - total))
            if not chunk:
                break
            total += len(chunk)
            if total > cap:
                raise _OverCap
            chunks.append(chunk)
    return b"".join(chunks)
