"""scripts/neuroscan_client.py, run as a subprocess against a live server, as a user would run it."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from api.services import token_create
from conftest import DATA_DIR, PASSWORD, ROOT, need_data
from ml import config as ml_config
from scans.models import Scan
from scans.tests.factories import image_bytes

CLIENT = ROOT / "scripts" / "neuroscan_client.py"
TRAINING = DATA_DIR / "brain-mri" / "Training"


def run_client(live_server, token: str | None, folder: Path, *extra: str, timeout: float = 60,
               env: dict | None = None) -> tuple[int, list[dict], str]:  # fmt: skip
    credentials = ["--token", token] if token else []
    command = [sys.executable, str(CLIENT), "--url", live_server.url, *credentials, "--interval", "0.5", *extra, str(folder)]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("NEUROSCAN_")}
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env={**environment, **(env or {})})
    records = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return done.returncode, records, done.stderr


@pytest.mark.django_db(transaction=True)
def test_it_reports_refusals_and_stops_waiting_at_its_timeout(live_server, alice, tmp_path):
    """No worker here: the good file stays queued, so the client's timeout is what ends the wait."""
    (tmp_path / "good.png").write_bytes(image_bytes())
    (tmp_path / "broken.png").write_bytes(b"not an image")
    (tmp_path / "notes.txt").write_text("not uploaded: not an image name")
    code, records, stderr = run_client(live_server, token_create(user=alice)[1], tmp_path,
                                       "--timeout", "1", "--patient-ref", "STUDY-3")  # fmt: skip
    assert code == 1, stderr
    by_file = {record["file"]: record for record in records}
    assert set(by_file) == {"good.png", "broken.png"}
    assert by_file["broken.png"]["status"] == "refused" and "not an image" in by_file["broken.png"]["error"]
    assert by_file["good.png"]["status"] == "queued" and by_file["good.png"]["timed_out"] is True
    scan = Scan.objects.get()
    assert str(scan.id) == by_file["good.png"]["id"] and scan.owner == alice and scan.patient_reference == "STUDY-3"


@pytest.mark.django_db(transaction=True)
def test_it_logs_in_with_a_password_and_can_send_every_file(live_server, alice, tmp_path):
    (tmp_path / "scan-without-extension").write_bytes(image_bytes("TIFF"))
    (tmp_path / "notes.txt").write_text("not an image")
    code, records, stderr = run_client(live_server, None, tmp_path, "--username", "alice", "--all-files", "--timeout", "0",
                                       env={"NEUROSCAN_PASSWORD": PASSWORD})  # fmt: skip
    assert code == 1, stderr
    by_file = {record["file"]: record for record in records}
    assert by_file["notes.txt"]["status"] == "refused"
    assert by_file["scan-without-extension"]["status"] == "queued"
    assert Scan.objects.get().format == "tiff"


@pytest.mark.django_db(transaction=True)
def test_it_exits_2_on_a_bad_token(live_server, alice, tmp_path):
    (tmp_path / "good.png").write_bytes(image_bytes())
    code, records, stderr = run_client(live_server, "not-a-token", tmp_path)
    assert code == 2 and records == [] and "token was refused" in stderr
    assert not Scan.objects.exists()


@pytest.mark.worker
def test_it_uploads_a_folder_and_prints_each_result(live_server, worker_process, alice, tmp_path):
    """End to end: the real worker runs the real model on real MRI slices."""
    need_data(TRAINING)
    weights = ml_config.WEIGHTS_DIR / ml_config.WEIGHTS_FILE_NAME
    if not weights.exists():
        pytest.fail(f"The model weights are not installed ({weights}): this test passes once they are committed.")
    folder = tmp_path / "slices"
    folder.mkdir()
    expected = {}
    for label in ("glioma", "notumor"):
        source = sorted((TRAINING / label).iterdir())[0]
        shutil.copy(source, folder / source.name)
        expected[source.name] = label
    code, records, stderr = run_client(live_server, token_create(user=alice)[1], folder, "--timeout", "240", timeout=300)
    assert code == 0, f"{stderr}\n--- worker ---\n{worker_process.output[-3000:]}"
    assert {record["file"] for record in records} == set(expected)
    for record in records:
        assert record["status"] == "done" and record["failure_reason"] is None
        assert record["label"] in ml_config.CLASS_NAMES and 0.0 <= record["confidence"] <= 1.0
        assert record["model_version"] and record["report"].endswith(f"/api/v1/scans/{record['id']}/report")
    assert Scan.objects.filter(owner=alice, status="done").count() == 2


@pytest.mark.django_db(transaction=True)
def test_it_sends_deferred_files_again(live_server, alice, tmp_path, settings):
    settings.SCANS_REQUEST_MAX_PIXELS = 96 * 80  # the server decodes one of these slices per request
    for n in range(3):
        (tmp_path / f"{n}.png").write_bytes(image_bytes())
    code, records, stderr = run_client(live_server, token_create(user=alice)[1], tmp_path, "--timeout", "0")
    assert sorted(record["file"] for record in records) == ["0.png", "1.png", "2.png"], stderr
    assert all(record["status"] == "queued" for record in records)
    assert Scan.objects.count() == 3


class _AnswerDroppingProxy:
    """A TCP proxy that forwards the first upload to the server but loses its answer (closes the connection)."""

    def __init__(self, upstream_port: int) -> None:
        import socket
        import threading

        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.dropped = 0
        self._threading = threading
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            state = {"drop": False}
            self._threading.Thread(target=self._pump, args=(client, upstream, state, True), daemon=True).start()
            self._threading.Thread(target=self._pump, args=(upstream, client, state, False), daemon=True).start()

    def _pump(self, source, target, state, to_server: bool) -> None:
        try:
            while data := source.recv(65536):
                if to_server and b"POST /api/v1/scans/" in data and self.dropped == 0:
                    self.dropped, state["drop"] = 1, True
                if not to_server and state["drop"]:
                    target.shutdown(2)  # SHUT_RDWR: the server answered; the client never hears it
                    return
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(2)
                except OSError:
                    pass
                try:
                    sock.close()
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()


@pytest.mark.django_db(transaction=True)
def test_a_lost_answer_is_retried_without_duplicating_scans(live_server, alice, tmp_path):
    from urllib.parse import urlparse

    for n in range(2):
        (tmp_path / f"{n}.png").write_bytes(image_bytes())
    proxy = _AnswerDroppingProxy(urlparse(live_server.url).port)
    try:
        proxied = type("Server", (), {"url": f"http://127.0.0.1:{proxy.port}"})()
        code, records, stderr = run_client(proxied, token_create(user=alice)[1], tmp_path, "--timeout", "0")
    finally:
        proxy.close()
    assert proxy.dropped == 1 and "sending the same files again" in stderr, stderr
    assert sorted(record["file"] for record in records) == ["0.png", "1.png"]
    assert Scan.objects.count() == 2  # the first attempt stored them; the retry was answered with the same scans
