"""Errors of source onboarding that callers show to people as one line."""

from __future__ import annotations

from pathlib import Path


class SourceFileError(Exception):
    """A fault of a whole source file (unreadable, unsafe, no header, no period, ...).

    `str()` is one line naming the file and the fault, e.g.
    `bpjs/rekap.xlsx: encrypted workbook (...)`; callers print it without a stack trace.
    """

    def __init__(self, path: str | Path, fault: str):
        self.path = str(path)
        self.fault = fault
        super().__init__(f"{self.path}: {fault}")

    def __reduce__(self):  # keeps the two arguments across pickling (Airflow, multiprocessing)
        return (type(self), (self.path, self.fault))


class ContractError(Exception):
    """A source contract that is not valid; the message names the contract file and the key."""
