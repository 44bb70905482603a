import os

import pytest
from django.db import connection

from conftest import need_service
from neuroscan.celery import app, ping


def test_celery_is_configured_for_safe_redelivery():
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    # The next message at hand, no more: a killed worker's unacknowledged ones are handed out again.
    assert conf.worker_prefetch_multiplier == 2
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    assert conf.task_always_eager is False


@pytest.mark.worker
def test_a_real_worker_process_answers_ping(worker_process):
    result = ping.delay()
    assert result.get(timeout=60) == "pong"
    assert "neuroscan.ping" in worker_process.output


@pytest.mark.skipif(os.environ.get("NEUROSCAN_REQUIRE_SERVICES") != "1", reason="only where CI asks for the real stack")
@pytest.mark.django_db
def test_the_suite_runs_on_the_real_stack_when_required():
    import redis

    assert connection.vendor == "postgresql"
    assert app.conf.broker_url.startswith("redis://")
    try:
        reachable = redis.Redis.from_url(app.conf.broker_url, socket_timeout=3).ping()
    except redis.RedisError:
        reachable = False
    need_service("Redis", reachable)
