"""`python -m neuroscan.bind`: print the address the web server listens on (NEUROSCAN_HOST:NEUROSCAN_PORT).

scripts/run passes it to gunicorn through the Procfile, so a bad value stops the start with the
settings' message naming the variable.
"""

import os


def bind_address() -> str:
    from django.conf import settings

    host = settings.NEUROSCAN_HOST
    return f"[{host}]:{settings.NEUROSCAN_PORT}" if ":" in host else f"{host}:{settings.NEUROSCAN_PORT}"


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "neuroscan.settings")
    print(bind_address())
