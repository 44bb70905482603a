#!/usr/bin/env python3
"""Example NeuroScan API client: upload every image in a folder, wait for the results, print them.

    export NEUROSCAN_TOKEN=...   # from the "API token" page, or POST /api/v1/auth/token/
    python scripts/neuroscan_client.py --url https://neuroscan.example.org ./slices

Prints one JSON line per file on stdout, when its scan is done or failed (or refused at upload,
or still unfinished at --timeout). Progress and errors go to stderr. Exit status: 0 when every file
was analysed, 1 when any was refused, failed or timed out, 2 on a usage, connection or login error.
Needs only `requests`.
"""

import argparse
import getpass
import json
import os
import sys
import time
from pathlib import Path

import requests

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".dcm", ".dicom"}
MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".bmp": "image/bmp",
               ".tif": "image/tiff", ".tiff": "image/tiff", ".dcm": "application/dicom", ".dicom": "application/dicom"}  # fmt: skip
FINISHED = {"done", "failed"}
# An upload whose answer was lost (connection dropped, gateway error) is sent again: the server
# answers the same file from the same user within minutes with the scan it already made, so a
# retry never duplicates a scan. Files the server deferred (its per-request budget was spent)
# are sent again in the next request.
RETRY_STATUSES = {502, 503, 504}
UPLOAD_ATTEMPTS = 5


class ClientError(Exception):
    """Stops the run: the server cannot be reached, or refuses the credentials."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="folder whose images are uploaded (not recursive)")
    parser.add_argument("--url", default=os.environ.get("NEUROSCAN_URL", "http://127.0.0.1:8000"),
                        help="the portal's base URL (default: $NEUROSCAN_URL or http://127.0.0.1:8000)")
    parser.add_argument("--token", default=os.environ.get("NEUROSCAN_TOKEN"),
                        help="API token (default: $NEUROSCAN_TOKEN); or use --username")
    parser.add_argument("--username", help="log in for a token; the password is read from $NEUROSCAN_PASSWORD or asked")
    parser.add_argument("--all-files", action="store_true",
                        help="send every file, not only image names (DICOM files often have no extension); the server reads the contents")
    parser.add_argument("--patient-ref", default="", help="pseudonymous reference stored with every scan")
    parser.add_argument("--batch-size", type=int, default=10, help="files per upload request (default 10)")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between polls (default 2)")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up waiting after this many seconds (default 600)")
    args = parser.parse_args(argv)  # fmt: skip
    if not args.folder.is_dir():
        parser.error(f"{args.folder} is not a folder")
    if not args.token and not args.username:
        parser.error("give --token (or set NEUROSCAN_TOKEN) or --username")
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def emit(record: dict) -> None:
    print(json.dumps(record, sort_keys=True), flush=True)


def api_url(base: str, path: str) -> str:
    return base.rstrip("/") + path


def obtain_token(base: str, username: str) -> str:
    password = os.environ.get("NEUROSCAN_PASSWORD") or getpass.getpass(f"Password for {username}: ")
    response = requests.post(api_url(base, "/api/v1/auth/token/"), json={"username": username, "password": password}, timeout=30)
    if response.status_code != 200:
        raise ClientError(f"login refused ({response.status_code}): {_error_of(response)}")
    return response.json()["token"]


def _error_of(response: requests.Response) -> str:
    try:
        return response.json().get("error", response.text[:200])
    except ValueError:
        return response.text[:200]


def image_files(folder: Path, *, all_files: bool = False) -> list[Path]:
    return sorted(path for path in folder.iterdir()
                  if path.is_file() and not path.name.startswith(".") and (all_files or path.suffix.lower() in IMAGE_SUFFIXES))  # fmt: skip


def _post_batch(session: requests.Session, base: str, paths: list[Path], patient_ref: str) -> requests.Response:
    handles = [path.open("rb") for path in paths]
    try:
        files = [("file", (path.name, handle, MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")))
                 for path, handle in zip(paths, handles)]  # fmt: skip
        data = {"patient_ref": patient_ref} if patient_ref else {}
        return session.post(api_url(base, "/api/v1/scans/"), files=files, data=data, timeout=300)
    finally:
        for handle in handles:
            handle.close()


def _send_with_retries(session: requests.Session, base: str, paths: list[Path], patient_ref: str,
                       *, attempts: int = UPLOAD_ATTEMPTS, backoff: float = 1.0) -> requests.Response:  # fmt: skip
    """POST the batch, again after a lost answer or a gateway error (safe: the server de-duplicates)."""
    for attempt in range(1, attempts + 1):
        try:
            response = _post_batch(session, base, paths, patient_ref)
        except (requests.ConnectionError, requests.Timeout) as error:
            if attempt == attempts:
                raise
            log(f"Upload interrupted ({type(error).__name__}); sending the same files again (attempt {attempt + 1}).")
        else:
            deferred_only = response.status_code == 503 and "files" in _json_or_empty(response)
            if response.status_code not in RETRY_STATUSES or deferred_only or attempt == attempts:
                return response
            log(f"Upload answered {response.status_code}; sending the same files again (attempt {attempt + 1}).")
        time.sleep(min(backoff * 2 ** (attempt - 1), 30))
    raise AssertionError("unreachable")


def upload_batch(session: requests.Session, base: str, paths: list[Path], patient_ref: str) -> tuple[list[dict], list[dict]]:
    """POST one batch; returns (created scans, refused files). Accepted files of a refused batch are kept."""
    response = _send_with_retries(session, base, paths, patient_ref)
    if response.status_code == 201:
        return response.json(), []
    if response.status_code in (400, 413, 429, 503) and "files" in _json_or_empty(response):
        body = response.json()
        return body.get("scans", []), body["files"]
    if response.status_code == 401:
        raise ClientError(f"the token was refused: {_error_of(response)}")
    raise ClientError(f"upload failed ({response.status_code}): {_error_of(response)}")


def _json_or_empty(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def result_record(scan: dict) -> dict:
    result = scan.get("result") or {}
    final = scan.get("final") or {}
    return {
        "file": scan["original_filename"],
        "id": scan["id"],
        "status": scan["status"],
        "state": final.get("state"),  # the answer: analysed / needs_review / not_analysed / failed
        "final_label": final.get("label"),  # the standing review's label, else the AI's; null when not analysed
        "label": result.get("label"),  # the AI's, as recorded
        "confidence": result.get("confidence"),
        "abstained": result.get("abstained"),
        "model_version": result.get("model_version"),
        "failure_reason": scan.get("failure_reason") or None,
        "report": (scan.get("links") or {}).get("report"),
    }


def wait_for(session: requests.Session, scans: list[dict], *, interval: float, timeout: float) -> list[dict]:
    """Poll each scan's URL until done or failed; print each as it finishes. Returns the final records."""
    pending = {scan["id"]: scan["url"] for scan in scans}
    records = []
    deadline = time.monotonic() + timeout
    while pending:
        for scan_id, url in list(pending.items()):
            response = session.get(url, timeout=30)
            if response.status_code != 200:
                raise ClientError(f"could not read scan {scan_id} ({response.status_code}): {_error_of(response)}")
            scan = response.json()
            if scan["status"] in FINISHED:
                record = result_record(scan)
                emit(record)
                records.append(record)
                del pending[scan_id]
        if pending and time.monotonic() > deadline:
            for scan_id, url in pending.items():
                record = {**result_record(session.get(url, timeout=30).json()), "timed_out": True}
                emit(record)
                records.append(record)
            break
        if pending:
            time.sleep(interval)
    return records


def run(args: argparse.Namespace) -> int:
    token = args.token or obtain_token(args.url, args.username)
    session = requests.Session()
    session.headers.update({"Authorization": f"Token {token}", "Accept": "application/json",
                            "User-Agent": "neuroscan-client/1.0"})  # fmt: skip
    paths = image_files(args.folder, all_files=args.all_files)
    if not paths:
        log(f"No images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {args.folder}.")
        return 1
    created, refused = [], []
    queue, sends = list(paths), {path: 0 for path in paths}
    while queue:
        batch, queue = queue[: args.batch_size], queue[args.batch_size :]
        accepted, refusals = upload_batch(session, args.url, batch, args.patient_ref)
        created += accepted
        by_name = {path.name: path for path in batch}
        for refusal in refusals:
            path = by_name.get(refusal["name"])
            # Deferred: the server did not look at the file this time; it goes round again.
            if refusal.get("code") == "deferred" and path is not None and sends[path] < UPLOAD_ATTEMPTS:
                sends[path] += 1
                queue.append(path)
            else:
                refused.append(refusal)
        done = len(paths) - len(queue)
        log(f"Uploaded {done}/{len(paths)} files: {len(created)} queued, {len(refused)} refused.")
    # A retried batch may list a scan twice (the server answered the same file with the same scan).
    created = list({scan["id"]: scan for scan in created}.values())
    for refusal in refused:
        emit({"file": refusal["name"], "id": None, "status": "refused", "error": refusal["error"]})
    records = wait_for(session, created, interval=args.interval, timeout=args.timeout)
    analysed = sum(1 for record in records if record["status"] == "done" and not record.get("timed_out"))
    log(f"{analysed} of {len(paths)} files analysed.")
    return 0 if analysed == len(paths) else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except ClientError as error:
        log(f"Error: {error}")
        return 2
    except requests.RequestException as error:
        log(f"Error: cannot reach {args.url} ({type(error).__name__}).")
        return 2


if __name__ == "__main__":
    sys.exit(main())
