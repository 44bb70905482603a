"""Real processes for tests: a private redis-server, the app pointed at another broker, the trained model."""

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

from neuroscan.celery import app

# What neuroscan.settings sets for a redis:// broker (with its defaults).
REDIS_TRANSPORT_OPTIONS = {"socket_connect_timeout": 3, "max_retries": 0, "visibility_timeout": 600}


def _reset_connections() -> None:
    # The app caches its connection and producer pools: drop the references so that the next
    # publish builds pools for the new URL. Never close them: kombu keeps producer pools in a
    # process-wide registry, and a closed one would fail later publishes ("Acquire on closed pool").
    app._pool = None
    app.amqp._producer_pool = None


@contextlib.contextmanager
def use_broker(url: str, transport_options: dict | None = None):
    """Publish from this process to `url`. Sets the namespaced keys: the CELERY_BROKER_URL
    environment variable (as CI sets it) would win over a plain `broker_url`."""
    conf = app.conf
    keys = ("CELERY_BROKER_WRITE_URL", "CELERY_BROKER_READ_URL", "CELERY_BROKER_TRANSPORT_OPTIONS")
    saved = {key: conf.get(key) for key in keys}
    conf["CELERY_BROKER_WRITE_URL"] = conf["CELERY_BROKER_READ_URL"] = url
    conf["CELERY_BROKER_TRANSPORT_OPTIONS"] = transport_options or REDIS_TRANSPORT_OPTIONS
    _reset_connections()
    try:
        assert app.connection_for_write().as_uri(include_password=True) == url, "the app ignored the new broker URL"
        assert app.conf.broker_transport_options == conf["CELERY_BROKER_TRANSPORT_OPTIONS"]
        yield
    finally:
        _reset_connections()
        conf.update(saved)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_server_available() -> bool:
    return shutil.which("redis-server") is not None


class RedisServer:
    """A throw-away redis-server on a free loopback port, stopped and started by the test itself."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [shutil.which("redis-server"), "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder),
                   "--save", "", "--appendonly", "no", "--protected-mode", "yes"]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return self
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def model_available() -> bool:
    """Whether ml/weights holds a trained model the worker can load (weights, calibration, OOD statistics)."""
    from ml import config

    names = (config.WEIGHTS_FILE_NAME, config.CALIBRATION_FILE_NAME, config.OOD_FILE_NAME)
    return all((config.WEIGHTS_DIR / name).exists() for name in names)
