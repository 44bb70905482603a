"""Publishing on commit, surviving a dead broker, and the periodic sweep that re-sends stuck scans."""

import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from scans import services
from scans.models import Scan, ScanStatus
from scans.tests.real_stack import REDIS_TRANSPORT_OPTIONS, free_port, use_broker
from scans.tests.factories import make_done_scan, make_scan

pytestmark = pytest.mark.django_db
STUCK = 300


@pytest.fixture(autouse=True)
def _deadline(settings):
    settings.SCANS_STUCK_AFTER_SECONDS = STUCK


def _sent_ids(sent_tasks) -> list[str]:
    return [task["args"][0] for task in sent_tasks]


def test_the_sweep_runs_every_minute_in_celery_beat():
    entry = django_settings.CELERY_BEAT_SCHEDULE["scans-sweep"]
    assert entry["task"] == "scans.sweep" and entry["schedule"] == 60.0
    assert django_settings.SCANS_STUCK_AFTER_SECONDS > django_settings.CELERY_TASK_TIME_LIMIT


def test_it_sends_a_scan_whose_message_was_never_sent(alice, sent_tasks):
    scan = make_scan(alice)  # no on_commit here: like a broker that was down at upload
    assert services.scans_sweep() == {"sent": 1, "unsent": 0, "failed": 0}
    assert _sent_ids(sent_tasks) == [str(scan.id)]
    assert Scan.objects.get(pk=scan.pk).enqueued_at is not None


@pytest.mark.parametrize(("age", "sent"), [(STUCK - 1, False), (STUCK, False), (STUCK + 1, True)])
def test_it_sends_again_a_queued_scan_only_after_the_deadline(alice, sent_tasks, age, sent):
    scan = make_scan(alice)
    now = timezone.now()
    Scan.objects.filter(pk=scan.pk).update(enqueued_at=now - timedelta(seconds=age))
    services.scans_sweep(now=now)
    assert _sent_ids(sent_tasks) == ([str(scan.id)] if sent else [])


@pytest.mark.parametrize(("age", "sent"), [(STUCK - 1, False), (STUCK, False), (STUCK + 1, True)])
def test_it_sends_again_a_scan_stuck_in_processing_after_the_deadline(alice, sent_tasks, age, sent):
    scan = make_scan(alice)
    now = timezone.now()
    started = now - timedelta(seconds=age)
    Scan.objects.filter(pk=scan.pk).update(
        status=ScanStatus.PROCESSING, attempts=1, enqueued_at=started - timedelta(seconds=1), processing_started_at=started
    )
    services.scans_sweep(now=now)
    assert _sent_ids(sent_tasks) == ([str(scan.id)] if sent else [])


def test_it_sends_a_stuck_scan_again_at_most_once_per_deadline(alice, sent_tasks):
    scan = make_scan(alice)
    now = timezone.now()
    long_ago = now - timedelta(seconds=STUCK * 3)
    Scan.objects.filter(pk=scan.pk).update(status=ScanStatus.PROCESSING, attempts=1, enqueued_at=long_ago, processing_started_at=long_ago)
    services.scans_sweep(now=now)
    services.scans_sweep(now=now + timedelta(seconds=60))  # the next beat: the re-sent message is still on its way
    assert _sent_ids(sent_tasks) == [str(scan.id)]
    services.scans_sweep(now=timezone.now() + timedelta(seconds=STUCK + 1))
    assert _sent_ids(sent_tasks) == [str(scan.id)] * 2


@pytest.mark.parametrize(("attempts", "outcome"), [(2, ScanStatus.PROCESSING), (3, ScanStatus.FAILED)])
def test_it_fails_a_scan_whose_worker_keeps_dying(alice, sent_tasks, settings, attempts, outcome):
    settings.SCANS_MAX_ATTEMPTS = 3
    scan = make_scan(alice)
    long_ago = timezone.now() - timedelta(hours=1)
    Scan.objects.filter(pk=scan.pk).update(status=ScanStatus.PROCESSING, attempts=attempts, processing_started_at=long_ago)
    services.scans_sweep()
    scan.refresh_from_db()
    assert scan.status == outcome
    if outcome == ScanStatus.FAILED:
        assert "interrupted 3 times" in scan.failure_reason and sent_tasks == []


def test_it_leaves_finished_scans_alone(alice, sent_tasks):
    done = make_done_scan(alice)
    failed = make_scan(alice)
    services.scan_fail(scan_id=failed.id, reason="Damaged.")
    Scan.objects.update(created_at=timezone.now() - timedelta(days=1))
    assert services.scans_sweep() == {"sent": 0, "unsent": 0, "failed": 0}
    assert Scan.objects.get(pk=done.pk).status == ScanStatus.DONE


def test_the_sweep_task_calls_the_service(alice, sent_tasks):
    from scans.tasks import sweep_scans

    make_scan(alice)
    assert sweep_scans.apply().get() == {"sent": 1, "unsent": 0, "failed": 0}


# --- A broker that does not answer, with the real transport -----------------------------------------


def test_an_upload_succeeds_quickly_when_the_broker_is_down(client, alice, django_capture_on_commit_callbacks):
    from scans.tests.factories import image_bytes, upload_file

    client.force_login(alice)
    with use_broker(f"redis://127.0.0.1:{free_port()}/0"):  # nothing listens there
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/scans/upload/", {"files": [upload_file(image_bytes())]})
        elapsed = time.monotonic() - started
        scan = Scan.objects.get()
        assert response.status_code == 302 and response["Location"] == f"/scans/{scan.id}/"
        assert scan.status == ScanStatus.QUEUED and scan.enqueued_at is None
        assert elapsed < 5, f"the upload waited {elapsed:.1f}s for a dead broker"
        assert services.scans_sweep() == {"sent": 0, "unsent": 1, "failed": 0}  # tries, keeps it queued


def test_publishing_to_an_unroutable_broker_is_bounded_by_the_connect_timeout(alice):
    scan = make_scan(alice)
    # 10.255.255.1 is a black hole on most networks: the connect timeout, not the OS, ends the wait.
    with use_broker("redis://10.255.255.1:6379/0", {**REDIS_TRANSPORT_OPTIONS, "socket_connect_timeout": 1}):
        started = time.monotonic()
        assert services.scan_publish(scan_id=scan.id) is False
        assert time.monotonic() - started < 4
