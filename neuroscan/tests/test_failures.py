"""A database outage answers 503 with Retry-After (page and API); a chunked upload answers 411."""

import pytest
from django.db import OperationalError
from django.test import Client

pytestmark = pytest.mark.django_db


def _database_down(monkeypatch) -> None:
    """From now on every query fails as it does when PostgreSQL is stopped (not producible in-process for real)."""
    from django.db.backends.utils import CursorWrapper

    def fail(*args, **kwargs):
        raise OperationalError("connection to server failed")

    monkeypatch.setattr(CursorWrapper, "execute", fail)
    monkeypatch.setattr(CursorWrapper, "executemany", fail)


def _client(alice) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    return client


def test_a_page_answers_503_with_retry_after_when_the_database_is_down(alice, monkeypatch):
    client = _client(alice)
    _database_down(monkeypatch)
    response = client.get("/scans/")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "try again" in response.content.decode()


def test_the_api_answers_503_json_when_the_database_is_down(alice, monkeypatch):
    client = _client(alice)
    _database_down(monkeypatch)
    response = client.get("/api/v1/scans/")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "database" in response.json()["error"]


def test_other_errors_are_still_500(alice, monkeypatch):
    from scans import views

    monkeypatch.setattr(views, "scans_history_for_user", lambda **kwargs: 1 / 0)
    assert _client(alice).get("/scans/").status_code == 500


@pytest.mark.parametrize("url", ["/scans/upload/", "/api/v1/scans/"])
def test_a_chunked_upload_is_answered_411(alice, url):
    client = _client(alice)
    response = client.generic("POST", url, b"", content_type="multipart/form-data; boundary=x",
                              HTTP_TRANSFER_ENCODING="chunked", CONTENT_LENGTH="")  # fmt: skip
    assert response.status_code == 411
    assert "Content-Length" in response.content.decode()
