from pathlib import Path

import pytest
from django.conf import settings


@pytest.fixture
def sent_tasks(monkeypatch):
    """Records the analysis tasks published (their args), instead of talking to a broker."""
    from scans.tasks import analyse_scan

    sent: list[dict] = []

    def fake_apply_async(args=None, kwargs=None, **options):
        sent.append({"args": args, "kwargs": kwargs, "options": options})

    monkeypatch.setattr(analyse_scan, "apply_async", fake_apply_async)
    return sent


def media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []
