from scans.tests.conftest import sent_tasks  # noqa: F401  (the same fake broker as the scans tests)
