"""Worker processes load the model at start and say they are ready (scans.analyser)."""

import os
import socket

import pytest

from scans.analyser import analyser_ready, analyser_start, analyser_stop, analysers_forget_dead
from scans.models import AnalyserProcess
from scans.tests.factories import FakeClassifier

pytestmark = pytest.mark.django_db


def test_start_runs_the_model_once_and_records_this_process():
    classifier = FakeClassifier()
    assert analyser_start(classifier_factory=lambda: classifier) == "fake-1"
    assert classifier.calls == 1  # warmed, not just loaded
    row = AnalyserProcess.objects.get()
    assert (row.hostname, row.pid, row.model_version) == (socket.gethostname(), os.getpid(), "fake-1")
    assert analyser_ready()


def test_starting_twice_keeps_one_row():
    analyser_start(classifier_factory=FakeClassifier)
    analyser_start(classifier_factory=FakeClassifier)
    assert AnalyserProcess.objects.count() == 1


def test_stop_forgets_this_process():
    analyser_start(classifier_factory=FakeClassifier)
    analyser_stop()
    assert not analyser_ready()


def test_a_new_worker_forgets_processes_of_this_machine_that_died():
    from django.utils import timezone

    host = socket.gethostname()
    dead_pid = 2**22 + 12345  # above Linux's pid_max default range for live processes
    AnalyserProcess.objects.create(hostname=host, pid=dead_pid, model_version="x", ready_at=timezone.now())
    AnalyserProcess.objects.create(hostname=host, pid=os.getpid(), model_version="x", ready_at=timezone.now())
    AnalyserProcess.objects.create(hostname="another-machine", pid=dead_pid, model_version="x", ready_at=timezone.now())
    assert analysers_forget_dead() == 1
    assert set(AnalyserProcess.objects.values_list("hostname", "pid")) == {(host, os.getpid()), ("another-machine", dead_pid)}


def test_start_passes_on_native_stderr_except_tensorflows_start_notes(capfd):
    def noisy_factory():
        os.write(2, b"I0000 port.cc:153] oneDNN custom operations are on. You may see...\n")
        os.write(2, b"E0000 something that matters\n")
        return FakeClassifier()

    analyser_start(classifier_factory=noisy_factory)
    err = capfd.readouterr().err
    assert "something that matters" in err and "oneDNN" not in err
