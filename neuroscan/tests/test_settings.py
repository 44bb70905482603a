"""Settings are read from the environment in a fresh process, as the portal would start."""

import os
import secrets
import subprocess
import sys

from neuroscan.testing import ROOT

PRODUCTION_ENV = {
    "NEUROSCAN_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "example.org",
}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    inherited = ("NEUROSCAN_ENV", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    clean = {k: v for k, v in os.environ.items() if k not in inherited}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


def _setting(name: str, env: dict[str, str]) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print(repr(settings.{name}))"
    result = _run(["-c", code], {"DJANGO_SETTINGS_MODULE": "neuroscan.settings", **env})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_production_profile_passes_deploy_check():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_requires_a_secret_key():
    result = _run(["manage.py", "check"], {**PRODUCTION_ENV, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY" in result.stderr


def test_production_rejects_a_short_secret_key():
    result = _run(["manage.py", "check"], {**PRODUCTION_ENV, "SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_requires_allowed_hosts():
    result = _run(["manage.py", "check"], {**PRODUCTION_ENV, "ALLOWED_HOSTS": ""})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_production_ignores_debug_from_the_environment():
    assert _setting("DEBUG", {**PRODUCTION_ENV, "DEBUG": "1"}) == "False"


def test_a_bad_database_url_fails_loudly():
    result = _run(["manage.py", "check"], {"DATABASE_URL": "mysql://x@localhost/db"})
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_a_bad_debug_value_fails_loudly():
    result = _run(["manage.py", "check"], {"DEBUG": "perhaps"})
    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def test_embedded_default_broker_needs_no_server_and_is_not_eager():
    env = {"CELERY_BROKER_URL": "", "DATABASE_URL": ""}
    assert _setting("CELERY_BROKER_URL", env) == "'filesystem://'"
    code = "from neuroscan.celery import app; print(app.conf.task_always_eager)"
    result = _run(["-c", code], env)
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_embedded_default_database_is_a_sqlite_file():
    assert "sqlite3" in _setting("DATABASES['default']['ENGINE']", {"DATABASE_URL": ""})
