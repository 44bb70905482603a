"""Errors whose message is written for the person who uploaded the study."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FileProblem:
    """One file of an upload that was not kept, and why (a sentence for the user)."""

    name: str  # the member's or file's name as the user knows it: display only, never a path
    error: str

    def as_dict(self) -> dict:
        return {"name": self.name, "error": self.error}


class StudyRejected(Exception):
    """The whole study was refused and nothing was stored. `files` lists each file's own problem, if any.

    `code` picks the HTTP status of the JSON answer: "invalid", "too_large" or "quota".
    """

    def __init__(self, message: str, *, code: str = "invalid", files: list[FileProblem] | tuple = ()) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.files = list(files)
