from datetime import UTC, datetime, timedelta

import pytest

from scans.durations import format_duration, scan_durations

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("seconds", "words"), [(0.24, "0.2 s"), (9.96, "10.0 s"), (12.4, "12 s"), (60, "1 min"), (125, "2 min 5 s"), (-1, "0.0 s")])
def test_it_writes_durations_in_words(seconds, words):
    assert format_duration(seconds) == words


def test_it_measures_queue_and_analysis_from_the_timestamps():
    durations = scan_durations(created_at=T0, processing_started_at=T0 + timedelta(seconds=1.5), finished_at=T0 + timedelta(seconds=1.8))
    assert (durations.waited, durations.analysed_in) == ("1.5 s", "0.3 s")


def test_unknown_steps_stay_blank():
    assert scan_durations(created_at=T0, processing_started_at=None, finished_at=T0).waited == ""
