import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

PUBLIC = {
    "accounts:login",
    "accounts:register",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
}


def _named_patterns(resolver=None, namespace=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in ("admin", "api"):
                continue  # the admin has its own login; the API answers 401 JSON (api/tests/test_anonymous.py)
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _named_patterns(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", pattern


def _example_url(name: str, pattern: URLPattern) -> str:
    examples = {"uidb64": "MQ", "token": "set-password", "pk": "00000000-0000-0000-0000-000000000000"}
    kwargs = {key: examples.get(key, "00000000-0000-0000-0000-000000000000") for key in pattern.pattern.converters}
    return reverse(name, kwargs=kwargs)


PROTECTED = sorted(name for name, _ in _named_patterns() if name not in PUBLIC)


def test_there_are_protected_urls():
    assert "home" in PROTECTED and "accounts:password_change" in PROTECTED


@pytest.mark.parametrize("name", PROTECTED)
def test_anonymous_users_are_sent_to_login(client, name):
    pattern = dict(_named_patterns())[name]
    url = _example_url(name, pattern)
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 302, f"{method.__name__} {url}"
        assert response.url.startswith(reverse("accounts:login") + "?next=")


@pytest.mark.parametrize("name", sorted(PUBLIC - {"accounts:password_reset_confirm"}))
def test_public_pages_open_without_login(client, name):
    assert client.get(reverse(name)).status_code == 200


def test_every_page_carries_the_not_a_diagnosis_notice(client):
    assert "Not a diagnosis." in client.get(reverse("accounts:login")).content.decode()
