"""GET /api/v1/model/ (the model card) and GET /api/v1/health/ (no auth, no details)."""

import socket
import subprocess
import time

import pytest
from django.utils import timezone

from api import health
from conftest import need_service
from neuroscan.testing import WorkerProcess
from scans.models import AnalyserProcess
from scans.tests.real_stack import RedisServer, redis_server_available, use_broker
from api.tests.conftest import assert_json_error

pytestmark = pytest.mark.django_db
CARD = {"version": "neuroscan-cnn-1.0.0", "classes": ["glioma", "meningioma", "notumor", "pituitary"]}


def test_it_serves_the_model_card(alice_api, monkeypatch):
    monkeypatch.setattr("api.views.model_card", lambda: CARD)
    response = alice_api.get("/api/v1/model/")
    assert response.status_code == 200 and response.json() == CARD


def test_it_says_when_no_model_card_is_installed(alice_api, monkeypatch):
    monkeypatch.setattr("api.views.model_card", lambda: {})
    assert_json_error(alice_api.get("/api/v1/model/"), 503)


def test_the_model_card_needs_auth(client):
    assert_json_error(client.get("/api/v1/model/"), 401)


@pytest.fixture
def filesystem_broker(tmp_path):
    """The embedded broker in a scratch folder, whichever broker the suite runs on (CI: Redis)."""
    folders = {name: tmp_path / "broker" / name for name in ("queue", "processed", "control")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    options = {"data_folder_in": str(folders["queue"]), "data_folder_out": str(folders["queue"]),
               "processed_folder": str(folders["processed"]), "control_folder": str(folders["control"])}  # fmt: skip
    with use_broker("filesystem://localhost//", options):  # the form kombu gives it back in
        assert health._transport() == "filesystem"
        yield


def test_health_needs_no_auth_and_on_the_filesystem_broker_says_no_worker_runs(client, filesystem_broker):
    response = client.get("/api/v1/health/", HTTP_AUTHORIZATION="Token whatever")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "ok", "broker": "ok", "worker": "unavailable"}}
    assert response["Cache-Control"] == "no-store"


def test_on_the_filesystem_broker_a_dead_workers_row_is_not_a_worker(client, filesystem_broker):
    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid now names no process
    AnalyserProcess.objects.create(hostname=socket.gethostname(), pid=dead.pid, model_version="v", ready_at=timezone.now())
    assert client.get("/api/v1/health/").json()["checks"]["worker"] == "unavailable"


@pytest.mark.worker
def test_health_on_the_filesystem_broker_sees_a_real_worker_come_and_go(client, transactional_db, filesystem_broker, tmp_path):
    embedded = {"CELERY_BROKER_URL": "filesystem://localhost/", "CELERY_RESULT_BACKEND": f"file://{tmp_path / 'results'}",
                "NEUROSCAN_VAR_DIR": str(tmp_path / "var")}  # fmt: skip
    with WorkerProcess(extra_env=embedded):
        deadline = time.monotonic() + 60  # "ready." comes before its pool process has loaded the model
        while not AnalyserProcess.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        response = client.get("/api/v1/health/")
        assert response.status_code == 200, response.json()
        assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok", "worker": "ok"}}
    health._worker_cache.clear()
    assert client.get("/api/v1/health/").json()["checks"]["worker"] == "unavailable"


def test_health_answers_503_when_the_database_is_down(client, monkeypatch):
    monkeypatch.setattr(health, "database_status", lambda: health.UNAVAILABLE)
    response = client.get("/api/v1/health/")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable" and response.json()["checks"]["database"] == "unavailable"


def test_health_answers_503_when_the_broker_is_down(client, monkeypatch):
    monkeypatch.setattr(health, "broker_status", lambda: health.UNAVAILABLE)
    response = client.get("/api/v1/health/")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "unavailable", "worker": "unavailable"}


def test_health_sees_a_missing_filesystem_queue_folder(tmp_path):
    options = {"data_folder_in": str(tmp_path / "gone"), "data_folder_out": str(tmp_path / "gone")}
    assert health._filesystem_broker_status(options) == health.UNAVAILABLE
    (tmp_path / "gone").mkdir()
    assert health._filesystem_broker_status(options) == health.OK


@pytest.mark.worker
def test_health_on_redis_sees_workers_and_the_broker_come_and_go(client, transactional_db, tmp_path):
    need_service("redis-server", redis_server_available())
    redis = RedisServer(tmp_path / "redis").start()
    try:
        with use_broker(redis.url):
            response = client.get("/api/v1/health/")
            assert response.status_code == 503
            assert response.json()["checks"] == {"database": "ok", "broker": "ok", "worker": "unavailable"}
            with WorkerProcess(extra_env={"CELERY_BROKER_URL": redis.url}):
                health._worker_cache.clear()  # the cached "unavailable" of a second ago; caching has its own test
                response = client.get("/api/v1/health/")
                assert response.status_code == 200, response.json()
                assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok", "worker": "ok"}}
            redis.stop()
            health._worker_cache.clear()
            response = client.get("/api/v1/health/")
            assert response.status_code == 503
            assert response.json()["checks"] == {"database": "ok", "broker": "unavailable", "worker": "unavailable"}
            assert str(redis.port) not in response.content.decode()
    finally:
        redis.stop()


@pytest.mark.parametrize("replies, expected", [([{"w1@host": {"ok": "pong"}}], "ok"), ([], "unavailable")])
def test_health_pings_workers_on_redis(monkeypatch, replies, expected):
    monkeypatch.setattr(health, "_broadcast_capable", lambda: True)
    monkeypatch.setattr(health.celery_app.control, "ping", lambda timeout: replies)
    assert health.worker_status() == expected


def test_health_reuses_the_worker_answer_for_a_few_seconds(monkeypatch):
    calls = []

    def ping(timeout):
        calls.append(1)
        return [{"w1@host": {"ok": "pong"}}]

    monkeypatch.setattr(health, "_broadcast_capable", lambda: True)
    monkeypatch.setattr(health.celery_app.control, "ping", ping)
    assert [health.worker_status() for _ in range(8)] == ["ok"] * 8
    assert calls == [1]  # one ping for eight pollers
    clock = health.time.monotonic() + health.WORKER_STATUS_CACHE_SECONDS + 0.1
    monkeypatch.setattr(health.time, "monotonic", lambda: clock)
    health.worker_status()
    assert calls == [1, 1]  # stale: asked again
