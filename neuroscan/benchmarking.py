"""What the benchmark commands share (scans.bench_batch, studies.bench): a scratch embedded stack, waiting, JSON out.

Each run lives in a temporary folder of its own: a SQLite file, the filesystem broker and the
media, so that it neither reads nor disturbs the portal's data. The environment is set before
Django reads its settings, hence no Django import at module level.
"""

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def configure_scratch(folder: Path) -> None:
    """Point the settings at `folder` (before Django reads them)."""
    os.environ["NEUROSCAN_VAR_DIR"] = str(folder / "var")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'var' / 'db.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(folder / "media")
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # stdout is the JSON line
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "neuroscan.settings")


def setup_scratch_stack() -> None:
    """Django set up on the scratch settings, its database migrated, the broker's folders made."""
    import django

    django.setup()
    from django.core.management import call_command

    from neuroscan.celery import ensure_broker_folders

    call_command("migrate", verbosity=0)
    ensure_broker_folders()


def wait(predicate: Callable[[], bool], timeout: float, poll: float = 0.05) -> bool:
    """Poll `predicate` until it is true (True) or `timeout` seconds have passed (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll)
    return False


def run_in_scratch(bench: Callable[[Path], dict]) -> int:
    """bench(scratch folder) in a fresh scratch stack; its result printed as one JSON line."""
    with tempfile.TemporaryDirectory(prefix="neuroscan-bench-") as folder:
        configure_scratch(Path(folder))
        sys.path.insert(0, str(ROOT))  # the test factories the benchmarks build their inputs with
        setup_scratch_stack()
        result = bench(Path(folder))
    print(json.dumps(result))
    return 0
