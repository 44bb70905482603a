"""API test helpers: clients that authenticate with a token, as scripts do."""

import pytest
from rest_framework.test import APIClient

from api.services import token_create


@pytest.fixture(autouse=True)
def _fresh_worker_status():
    """Each test asks the workers itself: no answer cached by an earlier test (api.health caches a few seconds)."""
    from api import health

    health._worker_cache.clear()
    yield
    health._worker_cache.clear()


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user)[1]}")
    return client


@pytest.fixture
def alice_api(alice) -> APIClient:
    return token_client(alice)


@pytest.fixture
def bob_api(bob) -> APIClient:
    return token_client(bob)


@pytest.fixture
def charlie_api(charlie) -> APIClient:
    return token_client(charlie)


def assert_json_error(response, status_code: int) -> dict:
    assert response.status_code == status_code, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("error"), str) and body["error"]
    return body
