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


_answered = 0  # calls of behave() in this process: a sandbox child serving several items counts them


def behave(what: tuple):
    """One item of a run_limited_each test: ("pid",), ("refuse",), ("crash",), ("sleep", s), ("allocate", mb), ("crash_if_used",)."""
    global _answered
    _answered += 1
    kind, *args = what
    if kind == "pid":
        return os.getpid()
    if kind == "crash_if_used" and _answered > 1:
        crash()
    if kind == "crash_if_used":
        return "fresh"
    return {"refuse": refuse, "crash": crash, "sleep": sleep, "allocate": allocate}[kind](*args)
