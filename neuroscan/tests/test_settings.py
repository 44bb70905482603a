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
    assert _setting("CELERY_BROKER_URL", env) == "'filesystem://localhost/'"
    code = "from neuroscan.celery import app; print(app.conf.task_always_eager)"
    result = _run(["-c", code], env)
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_embedded_default_database_is_a_sqlite_file():
    assert "sqlite3" in _setting("DATABASES['default']['ENGINE']", {"DATABASE_URL": ""})


def test_host_and_port_give_the_run_commands_bind_address():
    result = _run(["-m", "neuroscan.bind"], {"NEUROSCAN_HOST": "0.0.0.0", "NEUROSCAN_PORT": "8443"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0.0.0.0:8443"
    assert _run(["-m", "neuroscan.bind"], {}).stdout.strip() == "127.0.0.1:8000"


def test_a_bad_port_fails_loudly():
    result = _run(["-m", "neuroscan.bind"], {"NEUROSCAN_PORT": "70000"})
    assert result.returncode != 0
    assert "NEUROSCAN_PORT must be at most 65535" in result.stderr


def test_the_procfile_binds_where_the_run_command_says():
    web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    assert '--bind "${NEUROSCAN_BIND' in web
    assert "neuroscan.bind" in (ROOT / "scripts" / "run").read_text()


def test_a_bad_registration_mode_fails_loudly():
    result = _run(["manage.py", "check"], {"NEUROSCAN_REGISTRATION": "maybe"})
    assert result.returncode != 0
    assert "NEUROSCAN_REGISTRATION" in result.stderr


def test_a_bad_time_zone_fails_loudly():
    result = _run(["manage.py", "check"], {"TIME_ZONE": "Mars/Olympus"})
    assert result.returncode != 0
    assert "TIME_ZONE" in result.stderr


def test_manage_py_starts_without_the_axes_banner():
    result = _run(["manage.py", "check"], {})
    assert result.returncode == 0, result.stderr
    assert "AXES: BEGIN" not in result.stdout + result.stderr
    assert "No hostname was supplied" not in result.stdout + result.stderr
