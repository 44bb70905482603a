import pytest


@pytest.fixture
def sent_tasks(monkeypatch):
    """Records the tasks published (their name and args) instead of talking to a broker: a study's
    slices (studies.analyse_slice) and single scans (scans.analyse, e.g. a slice the owner retried)."""
    from scans.tasks import analyse_scan
    from studies.tasks import analyse_slice

    sent: list[dict] = []
    for task in (analyse_scan, analyse_slice):
        def fake_apply_async(args=None, kwargs=None, _name=task.name, **options):
            sent.append({"task": _name, "args": args, "kwargs": kwargs, "options": options})

        monkeypatch.setattr(task, "apply_async", fake_apply_async)
    return sent
