"""Functions the sandbox tests run in the child: a module without Django, importable by the fork server."""

import os
import signal
import time

from scans.errors import ScanRejected


def allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def crash() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def refuse() -> None:
    raise ScanRejected("no, thank you", code="too_large")
