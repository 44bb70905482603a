"""The client's IP address: REMOTE_ADDR, or, behind a configured reverse proxy, the address it saw.

Behind a proxy REMOTE_ADDR is the proxy itself: the lockout would then count every clinician as
one address and audit rows would all name the proxy. Set TRUSTED_PROXY_HEADER (for example
X-Forwarded-For) and TRUSTED_PROXY_COUNT (how many proxies of yours append to it, usually 1):
the address is read that many entries from the header's right end, the part your own proxies
wrote. Entries further left are the client's own claims and are never trusted.
"""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    header = settings.TRUSTED_PROXY_HEADER
    if header:
        meta_key = "HTTP_" + header.upper().replace("-", "_")
        entries = [entry.strip() for entry in request.META.get(meta_key, "").split(",") if entry.strip()]
        count = settings.TRUSTED_PROXY_COUNT
        if len(entries) >= count:
            return entries[-count]
        # The header is missing or short: the request did not come through the proxy chain.
    return request.META.get("REMOTE_ADDR") or None
