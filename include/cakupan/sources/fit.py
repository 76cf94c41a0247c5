"""Which contract reads a file: by name, by path, or by how well its fields fit the header.

`contract_for_file` picks a file's contract for `cakupan sources check` and `cakupan load`
alike, with one plain message for each way that fails: no such file, a directory, an unknown
contract name, no contract's path glob matching the file (`NoContractMatches`).

`rank_contracts` is onboarding help for that last case: it reads the first rows of the file
the way each contract of the file's kind would (its encoding, delimiter, sheets and header
rows) and ranks the contracts by the fields their aliases find in the header: every required
field found first, then the most fields. What it reports quotes header texts only (a row that
maps some field), never data cells (`cakupan.sources.errors`).
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cakupan.parsing.header import HeaderMatch, best_header
from cakupan.sources.contracts import Contract, match_contract
from cakupan.sources.errors import SourceFileError, UnknownContract
from cakupan.sources.readers import SourceReader, open_source

FILE_KIND_OF_SUFFIX = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".ods": "ods",
}


def contract_for_file(
    path: str | Path,
    contracts: Mapping[str, Contract],
    *,
    name: str | None = None,
    sources_dir: str | Path | None = None,
) -> tuple[Contract, str]:
    """The contract to read `path` with, and how it was chosen: `name`, else the one whose
    path glob matches (`match_contract`; none: `NoContractMatches`). Raises `UnknownContract`
    for a name no contract has, `SourceFileError` for a missing file or a directory."""
    path = Path(path)
    if name is not None and name not in contracts:
        raise UnknownContract(_unknown(name, contracts))
    if path.is_dir():
        raise SourceFileError(
            path, f"a directory, not a file: give its files (such as {path / '*.xlsx'})"
        )
    if not path.exists():
        raise SourceFileError(path, "no such file")
    if name is not None:
        return contracts[name], "chosen with --contract"
    contract = match_contract(path, contracts, sources_dir=sources_dir)
    return contract, f"its path glob {contract.path!r} matches"


def _unknown(name: str, contracts: Iterable[str]) -> str:
    names = sorted(contracts)
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"unknown contract {name!r}{hint}; the contracts are {', '.join(names)}"
        " (`cakupan sources list`)"
    )


@dataclass
class Fit:
    """How one contract fits a file's header: the position of its sheets that maps the most
    fields (None: none maps any), or why the file could not be read that contract's way."""

    contract: Contract
    sheet: str | None = None
    header: HeaderMatch | None = None
    fault: str | None = None  # the file cannot be read the contract's way
    note: str | None = None  # read all the same, such as a sheet its globs do not name

    @property
    def matched(self) -> dict[str, str]:
        """Field -> the header text it was found under, in the contract's field order."""
        columns = self.header.columns if self.header else {}
        return {f: columns[f][1] for f in self.contract.fields if f in columns}

    @property
    def missing_required(self) -> list[str]:
        return [f for f in self.contract.required_fields() if f not in self.matched]

    @property
    def fits(self) -> bool:
        """Every required field is in the header: the contract would find it."""
        return self.header is not None and not self.missing_required

    def rank(self) -> tuple:
        required = len(self.contract.required_fields()) - len(self.missing_required)
        return (not self.fits, -required, -len(self.matched), self.contract.name)


def file_kind(path: Path) -> str | None:
    return FILE_KIND_OF_SUFFIX.get(path.suffix.lower())


def rank_contracts(path: str | Path, contracts: Mapping[str, Contract]) -> list[Fit]:
    """Every file contract of the file's kind (by its suffix), best fit first: those whose
    header has every required field, then by required and all fields found. A contract the
    file cannot be read by has its `fault` and ranks by nothing found."""
    path = Path(path)
    kind = file_kind(path)
    candidates = [c for c in contracts.values() if c.is_file and c.kind == kind]
    depth = max((c.header.max_search_rows for c in candidates), default=0)
    reading = _Reading(path, depth)
    try:
        fits = [reading.fit(contract) for contract in candidates]
    finally:
        reading.close()
    return sorted(fits, key=Fit.rank)


class _Reading:
    """The file opened once per way of reading it (encoding, delimiter, limits), the first
    rows of each sheet read once, for every contract."""

    def __init__(self, path: Path, depth: int):
        self.path = path
        self.depth = depth
        self.readers: dict[tuple, SourceReader | SourceFileError] = {}
        self.rows: dict[tuple, tuple[list, list | None]] = {}

    def fit(self, contract: Contract) -> Fit:
        fit = Fit(contract)
        try:
            reader = self._reader(contract)
            try:
                names = reader.select(contract.sheets)
            except SourceFileError as exc:  # read the first sheet all the same
                fit.note = exc.fault
                names = reader.select(())
            for name in names:
                rows, merged = self._rows(contract, reader, name)
                match = best_header(
                    rows, _aliases(contract), header_rows=contract.header.rows, merged=merged
                )
                if match is not None and (fit.header is None or _better(match, fit)):
                    fit.header = match
                    fit.sheet = None if reader.kind == "csv" else name
        except SourceFileError as exc:
            fit.fault = exc.fault
        return fit

    def _reader(self, contract: Contract) -> SourceReader:
        limits = contract.limits
        key = (contract.kind, contract.encoding, contract.delimiter, *limits.model_dump().values())
        if key not in self.readers:
            try:
                self.readers[key] = open_source(
                    self.path,
                    contract.kind,
                    encoding=contract.encoding,
                    delimiter=contract.delimiter,
                    max_cells=limits.max_cells,
                    max_line_bytes=limits.max_line_bytes,
                )
            except SourceFileError as exc:
                self.readers[key] = exc
        reader = self.readers[key]
        if isinstance(reader, SourceFileError):
            raise reader
        return reader

    def _rows(self, contract: Contract, reader: SourceReader, name: str) -> tuple[list, list]:
        key = (id(reader), name)
        if key not in self.rows:
            sheet = reader.sheet(name)
            rows = list(itertools.islice(sheet.rows, self.depth))
            self.rows[key] = (rows, sheet.merged_ranges())
        rows, merged = self.rows[key]
        return rows[: contract.header.max_search_rows], merged

    def close(self) -> None:
        for reader in self.readers.values():
            if isinstance(reader, SourceReader):
                reader.close()


def _aliases(contract: Contract) -> dict[str, tuple[str, ...]]:
    return {n: f.all_aliases() for n, f in contract.fields.items()}


def _better(match: HeaderMatch, fit: Fit) -> bool:
    required = fit.contract.required_fields()
    assert fit.header is not None

    def score(m: HeaderMatch) -> tuple[int, int]:
        return sum(1 for f in required if f in m.columns), len(m.columns)

    return score(match) > score(fit.header)


__all__ = ["Fit", "contract_for_file", "file_kind", "rank_contracts"]
