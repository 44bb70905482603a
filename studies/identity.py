"""Keyed hashes of DICOM identifiers: enough to tell "the same series" from "another one", never the UID itself.

An Instance UID often embeds the scanner's serial number and the acquisition time; a plain SHA-256
of it could be matched against a hospital's own records. An HMAC with a server secret cannot.
"""

import hashlib
import hmac

from django.conf import settings


def keyed_hash(value: str, *, purpose: str) -> str:
    """HMAC-SHA256 (hex) of `value` under the portal's key, separated by purpose; "" for an empty value."""
    if not value:
        return ""
    key = settings.STUDIES_UID_HASH_KEY.encode()
    message = f"{purpose}\x00{value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
