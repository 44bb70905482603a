"""Errors whose message is written for the person who uploaded the file."""


class ScanRejected(Exception):
    """An upload refused before anything was stored. `code` picks the HTTP status of the JSON answer."""

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code  # "invalid", "too_large" or "quota"


class AnalysisFailed(Exception):
    """A deterministic failure of one scan's analysis: running it again would fail the same way."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
