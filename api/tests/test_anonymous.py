"""Every API endpoint refuses anonymous callers with a JSON 401, except the few that are public by design."""

import pytest
from django.urls import URLPattern, get_resolver, reverse

pytestmark = pytest.mark.django_db
PUBLIC = {"api:token", "api:health", "api:schema", "api:docs"}
SCAN_ID = "00000000-0000-0000-0000-000000000000"


def _api_names() -> list[str]:
    [api] = [pattern for pattern in get_resolver().url_patterns if getattr(pattern, "namespace", None) == "api"]
    return sorted(f"api:{pattern.name}" for pattern in api.url_patterns if isinstance(pattern, URLPattern) and pattern.name)


PROTECTED = sorted(set(_api_names()) - PUBLIC)


def test_there_are_protected_endpoints():
    assert {"api:scans", "api:scan-detail", "api:model"} <= set(PROTECTED)


@pytest.mark.parametrize("name", PROTECTED)
def test_anonymous_callers_get_401_json(client, name):
    kwargs = {"scan_id": SCAN_ID} if name.startswith("api:scan-") else {"study_id": SCAN_ID} if name.startswith("api:study-") else {}
    url = reverse(name, kwargs=kwargs)
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 401, f"{method.__name__} {url}"
        assert "error" in response.json()


@pytest.mark.parametrize("name", sorted(PUBLIC - {"api:token"}))
def test_public_endpoints_open_without_login(client, name):
    # Health answers 503 when a part is down (no worker runs beside the tests on Redis): still no login.
    assert client.get(reverse(name)).status_code in ((200, 503) if name == "api:health" else (200,))
