"""Run one decode in a child process with a memory ceiling and a deadline.

Decoders are C code fed by strangers: a header check catches the known bombs, this catches the
rest. The child comes from multiprocessing's fork server: a small, single-threaded process that
imported the decoders once and forks a fresh child per file (forking the web process itself
would copy whatever its other threads hold locked: a loaded TensorFlow, a test's browser, and
the child could hang). The child lowers its own address-space limit with resource.setrlimit,
runs the function and sends the result back through a pipe. Running out of memory, crashing or overrunning the deadline ends the child, never the web
worker, and comes back as ScanRejected. The child touches no database and no storage.
"""

import faulthandler
import multiprocessing
import os
import resource
import sys
import traceback
from collections.abc import Callable

from scans.errors import ScanRejected

_FORK = multiprocessing.get_context("forkserver")
# Imported once in the fork server, not again for every file.
_FORK.set_forkserver_preload(["scans.images", "scans.dicom"])

TOO_MUCH_MEMORY = "Decoding this image needs more memory than the portal allows for one file. Upload a single slice at its native resolution."
TOO_SLOW = "Decoding this image took too long ({seconds:g} s at most per file). Upload a single slice, saved plainly."
CRASHED = "The image could not be decoded (the decoder stopped). The file is damaged or uses an unusual encoding."


def _address_space_bytes() -> int:
    """This process's current virtual size: the child's ceiling is this plus the budget."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _child(connection, function: Callable, args: tuple, kwargs: dict, memory_bytes: int) -> None:
    faulthandler.disable()  # a crash is answered by the parent; no stack dump of the child on stderr
    try:
        limit = _address_space_bytes() + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            outcome = ("ok", function(*args, **kwargs))
        except ScanRejected as rejection:
            outcome = ("rejected", (rejection.message, rejection.code))
        except MemoryError:
            outcome = ("rejected", (TOO_MUCH_MEMORY, "too_large"))
        connection.send(outcome)
    except BaseException:  # an unexpected error: its type only, never the data (no PHI in traces)
        try:
            connection.send(("error", traceback.format_exception_only(*sys.exc_info()[:2])[-1][:200]))
        except BaseException:
            pass
    finally:
        connection.close()


def run_limited(function: Callable, *args, memory_bytes: int, seconds: float, **kwargs):
    """function(*args, **kwargs) in a forked child under an address-space and time limit.

    Returns its result. ScanRejected raised in the child is raised here; running out of memory,
    crashing or not answering within `seconds` raises ScanRejected with a message for the user.
    """
    receiver, sender = _FORK.Pipe(duplex=False)
    process = _FORK.Process(target=_child, args=(sender, function, args, kwargs, memory_bytes), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            raise ScanRejected(TOO_SLOW.format(seconds=seconds), code="too_large")
        try:
            status, value = receiver.recv()
        except (EOFError, OSError):  # the child died before answering: killed for memory, or crashed
            raise ScanRejected(CRASHED) from None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()
    if status == "ok":
        return value
    if status == "rejected":
        raise ScanRejected(value[0], code=value[1])
    raise ScanRejected(CRASHED)


def available() -> bool:
    """Forking with an address-space limit needs Linux's /proc and RLIMIT_AS."""
    return hasattr(resource, "RLIMIT_AS") and os.path.exists("/proc/self/status")
