"""Run one decode in a child process with a memory ceiling and a deadline (or many, one after another).

Decoders are C code fed by strangers: a header check catches the known bombs, this catches the
rest. The child comes from multiprocessing's fork server: a small, single-threaded process that
imported the decoders once and forks a fresh child per file, or one for a study's files
(run_limited_each: each file still has the limits of one) (forking the web process itself
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


# --- Many items, one child --------------------------------------------------------------------


def _serve(connection, function: Callable, memory_bytes: int) -> None:
    """A child that answers function(item) for each item the parent sends, one at a time, until None."""
    faulthandler.disable()
    try:
        limit = _address_space_bytes() + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        while (item := connection.recv()) is not None:
            try:
                outcome = ("ok", function(item))
            except ScanRejected as rejection:
                outcome = ("rejected", (rejection.message, rejection.code))
            except MemoryError:
                connection.send(("rejected", (TOO_MUCH_MEMORY, "too_large")))
                return  # the next item gets a fresh child: this one's heap may be left in pieces
            connection.send(outcome)
            del item, outcome  # before the next arrives: one item's memory at a time
    except BaseException:  # an unexpected error: its type only, never the data (no PHI in traces)
        try:
            connection.send(("error", traceback.format_exception_only(*sys.exc_info()[:2])[-1][:200]))
        except BaseException:
            pass
    finally:
        connection.close()


class _Server:
    """The parent's end of one _serve child."""

    def __init__(self, function: Callable, memory_bytes: int) -> None:
        self.connection, child_end = _FORK.Pipe(duplex=True)
        self.process = _FORK.Process(target=_serve, args=(child_end, function, memory_bytes), daemon=True)
        self.process.start()
        child_end.close()
        self.served = 0  # items answered so far

    def ask(self, item, seconds: float) -> tuple[str, object]:
        """("ok", result) / ("rejected", (message, code)) / ("error", type) / ("timeout", None) / ("died", None)."""
        try:
            self.connection.send(item)
            if not self.connection.poll(seconds):
                return "timeout", None
            answer = self.connection.recv()
        except (EOFError, OSError):  # the child died: killed for memory, or crashed
            return "died", None
        self.served += 1
        return answer

    def stop(self) -> None:
        try:
            if self.process.is_alive():
                self.connection.send(None)
        except OSError:
            pass
        self.connection.close()
        self.process.join(1)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def _rejection(status: str, value, seconds: float) -> ScanRejected:
    if status == "rejected":
        return ScanRejected(value[0], code=value[1])
    if status == "timeout":
        return ScanRejected(TOO_SLOW.format(seconds=seconds), code="too_large")
    return ScanRejected(CRASHED)


def run_limited_each(function: Callable, items: list, *, memory_bytes: int, seconds: float) -> list:
    """[function(item), or the ScanRejected it ended in, for each item], in order; many items per child.

    Each item has the limits run_limited gives one call: `memory_bytes` on top of the child's own
    size, `seconds`. A study's slices are decoded this way: one fork for the lot instead of one per
    file, which was most of a 150-file upload's time. A child that crashes, runs out of memory or
    overruns is ended and a fresh one takes the next item. An item that ended a child which had
    served others is tried once more in a fresh child, so that no file is refused for what an
    earlier one left behind; one that was too slow is not (it would only double the wait).
    """
    results: list = []
    server: _Server | None = None
    try:
        for item in items:
            while True:
                server = server or _Server(function, memory_bytes)
                fresh = server.served == 0
                status, value = server.ask(item, seconds)
                if status == "ok":
                    results.append(value)
                    break
                if status == "rejected" and value[0] != TOO_MUCH_MEMORY:
                    results.append(_rejection(status, value, seconds))  # the child goes on to the next
                    break
                server.process.kill()  # crashed, overran, ran out of memory or failed: this child is done
                server.stop()
                server = None
                if fresh or status == "timeout":
                    results.append(_rejection(status, value, seconds))
                    break
    finally:
        if server is not None:
            server.stop()
    return results


def available() -> bool:
    """Forking with an address-space limit needs Linux's /proc and RLIMIT_AS."""
    return hasattr(resource, "RLIMIT_AS") and os.path.exists("/proc/self/status")
