"""Errors of source onboarding that callers show to people as one line.

A message describes a fault (its kind, the file, a row, column or byte offset), never the
file's contents: a source file may hold personal data (NIK, names), and messages end up in
logs, in `raw.loads.error` and on terminals. `content_free(exc)` makes a parser library's
exception text fit to include by masking every quoted span of it.
"""

from __future__ import annotations

import re
from pathlib import Path

# a quoted span of a library's message: `...`, "..." or '...' (backslash escapes inside, as
# Rust's {:?} writes them); an unterminated quote masks the rest of the message
_QUOTED = re.compile(r"`[^`]*(?:`|$)|\"(?:[^\"\\]|\\.)*(?:\"|$)|'(?:[^'\\]|\\.)*(?:'|$)")


def content_free(exc: BaseException, limit: int = 300) -> str:
    """An exception's text on one line, every quoted span replaced by `<text not shown>`.

    Parser libraries (python-calamine, quick-xml) quote the text they stumbled on
    (`unrecognized entity `&Siti;``, `Unknown cell 't' attribute: "..."`); that text may be
    a cell's contents."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = _QUOTED.sub("<text not shown>", text)
    return text[:limit]


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


class NoContractMatches(SourceFileError):
    """No contract's path glob matches the file (`match_contract`); `cakupan sources check`
    then ranks the contracts by their fields in the file's header."""


class ContractError(Exception):
    """A source contract that is not valid; the message names the contract file and the key."""


class UnknownContract(ContractError):
    """A contract name (`--contract NAME`) that no contract has."""
