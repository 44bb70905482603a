"""Reachability of the database, the broker and the workers, for GET /api/v1/health/. Names no hosts."""

import logging
import os
import threading
import time

from django.db import connection

from neuroscan.celery import app as celery_app
from scans.analyser import analyser_running_here

logger = logging.getLogger(__name__)

OK, UNAVAILABLE = "ok", "unavailable"
REACHABILITY = (OK, UNAVAILABLE)
WORKER_PING_TIMEOUT_SECONDS = 1.0
# A worker's answer is reused this long: pollers must not each wait out a ping (and flood the broker).
WORKER_STATUS_CACHE_SECONDS = 5.0
_worker_cache: dict[str, tuple[float, str]] = {}
_worker_cache_lock = threading.Lock()


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any driver's error means the same thing here
        logger.warning("Health: the database did not answer (%s).", type(error).__name__)
        return UNAVAILABLE
    return OK


def _transport() -> str:
    """The broker's kind ("redis", "filesystem"), from the connection the app would really use."""
    with celery_app.connection_for_write() as conn:  # not connected: only the transport class is read
        return conn.transport.driver_type


def _broadcast_capable() -> bool:
    # kombu's filesystem transport has no fan-out exchange: control.ping() would wait out
    # its timeout and hear nothing even with workers running, so it proves nothing there.
    return _transport() == "redis"


def _filesystem_broker_status(options: dict | None = None) -> str:
    # kombu's filesystem transport "connects" even to a folder that is gone: look at the folders.
    options = celery_app.conf.broker_transport_options if options is None else options
    folders = [options.get(name) for name in ("data_folder_in", "data_folder_out")]
    usable = all(folder and os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK) for folder in folders)
    if not usable:
        logger.warning("Health: the filesystem broker's queue folder is missing or not writable.")
    return OK if usable else UNAVAILABLE


def broker_status() -> str:
    if _transport() == "filesystem":
        return _filesystem_broker_status()
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=celery_app.conf.broker_connection_timeout)
    except Exception as error:  # kombu's OperationalError, socket and file errors of the transports
        logger.warning("Health: the broker did not answer (%s).", type(error).__name__)
        return UNAVAILABLE
    return OK


def worker_status() -> str:
    """The last answer of _ping_workers, at most WORKER_STATUS_CACHE_SECONDS old (one ping at a time per process)."""
    with _worker_cache_lock:
        cached = _worker_cache.get("status")
        if cached is not None and time.monotonic() - cached[0] < WORKER_STATUS_CACHE_SECONDS:
            return cached[1]
        status = _ping_workers()
        _worker_cache["status"] = (time.monotonic(), status)
        return status


def _ping_workers() -> str:
    """"ok" if at least one worker answered a ping, or, where the broker cannot broadcast one (the
    embedded filesystem broker), if a worker process on this machine has the model loaded."""
    if not _broadcast_capable():
        return OK if analyser_running_here() else UNAVAILABLE
    try:
        # Not limit=1 ("stop at the first reply"): with the Redis transport it made a live worker read as
        # unavailable in the real-stack test. The cache above is what keeps pollers from waiting.
        replies = celery_app.control.ping(timeout=WORKER_PING_TIMEOUT_SECONDS)
    except Exception as error:
        logger.warning("Health: the worker ping failed (%s).", type(error).__name__)
        return UNAVAILABLE
    return OK if replies else UNAVAILABLE


def health_checks() -> dict[str, str]:
    checks = {"database": database_status(), "broker": broker_status()}
    checks["worker"] = worker_status() if checks["broker"] == OK else UNAVAILABLE
    return checks
