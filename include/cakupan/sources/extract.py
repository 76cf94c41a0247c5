"""Apply a source contract to one file: its sheets, headers, column mapping and period.

    extraction = extract_file(path, contract)      # file-level faults raise SourceFileError here
    extraction.sheet_results                       # header rows, columns, period of each sheet
    extraction.prepared                            # each sheet's data rows, not yet read

Everything that can make a whole file unusable (unreadable or unsafe file, no matching sheet,
no header, no period in the file name or title cells, too many cells) is checked by
`extract_file` before any data row is read. A file-level message quotes file, sheet, header and
title texts, never a cell below the header (see `cakupan.sources.errors`).

The rows themselves are accepted or rejected in one place, the warehouse
(`cakupan.sources.accept`, by SQL, from the rows landed as text by `cakupan.sources.landed`):
for a load (`cakupan.landing.load`) and for `cakupan sources check` alike. The cell parsers it
applies to each distinct text (`value_parser`), the region resolution (`resolve_region`) and the
row period (`row_period`) are here. No Airflow.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cakupan.parsing.header import HeaderNotFound, cell_text, find_header
from cakupan.parsing.numbers import ParseError, is_null, parse_integer, parse_number, parse_percent
from cakupan.parsing.periods import parse_date, parse_month, parse_period, search_period
from cakupan.parsing.regions import RegionResolver, Resolution, normalize_region_name
from cakupan.sources.contracts import Contract, match_contract
from cakupan.sources.errors import SourceFileError
from cakupan.sources.readers import Sheet, SourceReader, open_source

__all__ = [
    "Extraction",
    "Prepared",
    "SheetResult",
    "extract_file",
    "extract_reader",
    "match_contract",
    "value_parser",
]


@dataclass
class SheetResult:
    """Where the header of one sheet was found and how its columns map to fields."""

    sheet: str | None  # None for a CSV
    header_row: int  # 1-based row (line) number of the first header row
    header_rows: int
    columns: dict[str, tuple[int, str]]  # field -> (column index, source header text)
    column_letters: dict[str, str]  # field -> spreadsheet column letter
    unmatched: list[str]  # source header texts that map to no field
    missing: list[str]  # optional fields the sheet does not have
    period: dt.date | None = None
    period_source: str | None = None

    @property
    def data_start_row(self) -> int:
        return self.header_row + self.header_rows


def _source_text(value: Any) -> Any:
    """A cell as it was read, for `_source_values` (numbers as text, integers without `.0`)."""
    kind = type(value)
    if kind is str:
        return value
    if kind is float:
        return str(int(value)) if value.is_integer() else repr(value)
    if kind is int:
        return str(value)
    if value is None:
        return ""
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def _parse_text(value: Any) -> str | None:
    if type(value) is str:
        text = value.strip()
        return text or None
    if value is None:
        return None
    return _source_text(value)


_MEMO_LIMIT = 8192


def _memoised(slow: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`slow` with a bounded memo for hashable cell values (repeated texts, months)."""
    memo: dict[Any, Any] = {}

    def parse(value: Any) -> Any:
        try:
            return memo[value]
        except KeyError:
            pass
        except TypeError:  # unhashable: never from a reader, but be safe
            return slow(value)
        result = slow(value)  # a ParseError propagates and is not memoised
        if len(memo) < _MEMO_LIMIT:
            memo[value] = result
        return result

    return parse


def value_parser(
    ftype: str, *, decimal: str = "comma", thousands: str | None = None
) -> Callable[[Any], Any]:
    """The cell parser of a field type, with fast paths for plain numbers and empty cells."""
    if ftype == "text":
        return _parse_text
    if ftype in ("integer", "number", "percent"):
        slow_parse = {"integer": parse_integer, "number": parse_number, "percent": parse_percent}[
            ftype
        ]
        slow = _memoised(lambda v: slow_parse(v, decimal=decimal, thousands=thousands))

        def parse_numeric(value: Any) -> Any:
            # plain digits, whole floats and ints skip the Indonesian-format parser
            kind = value.__class__
            if kind is str:
                if value.isdigit() and value.isascii():
                    return int(value)
                if not value:
                    return None
            elif kind is float:
                if value.is_integer():
                    return int(value)
            elif kind is int:
                return value
            return slow(value)

        return parse_numeric
    if ftype in ("date", "month"):
        slow_date = _memoised(parse_date if ftype == "date" else parse_month)

        def parse_day(value: Any) -> Any:
            if value is None or (value.__class__ is str and is_null(value)):
                return None
            return slow_date(value)

        return parse_day
    raise ValueError(f"unknown field type {ftype!r}")


class Prepared:
    """One sheet, checked: where its header is and its data rows, not yet read."""

    def __init__(
        self,
        sheet: Sheet,
        result: SheetResult,
        data: Iterator[tuple[int, list]],
        skipped_above: int,
        texts: list[str],
    ):
        self.sheet = sheet
        self.result = result
        self.data = data
        self.skipped_above = skipped_above
        self.texts = texts


def source_keys(prepared: Prepared, width: int = 0) -> list[str]:
    """`_source_values` keys: header text per column, column letter where the header is blank."""
    keys: list[str] = []
    used: set[str] = set()
    for c in range(max(len(prepared.texts), width)):
        text = prepared.texts[c] if c < len(prepared.texts) else ""
        key = text or prepared.sheet.column_name(c)
        if key in used:
            key = f"{key} ({prepared.sheet.column_name(c)})"
        used.add(key)
        keys.append(key)
    return keys


class Extraction:
    """The outcome of `extract_file`: header and period facts; the rows are read by a landing."""

    def __init__(
        self,
        contract: Contract,
        path: Path,
        reader: SourceReader,
        prepared: list[Prepared],
        resolver: RegionResolver | None,
        period: dt.date | None,
        period_source: str | None,
    ):
        self.contract = contract
        self.path = path
        self.encoding = reader.encoding
        self.delimiter = reader.delimiter
        self.sheet_results = [p.result for p in prepared]
        self.period = period
        self.period_source = period_source
        self.prepared = prepared
        self._reader = reader
        self._resolver = resolver

    @property
    def sha256(self) -> str:
        """The file's SHA-256 (computed on first use, or given by a load that streamed it)."""
        return self._reader.sha256

    @sha256.setter
    def sha256(self, value: str) -> None:
        self._reader.sha256 = value

    @property
    def periods(self) -> list[dt.date]:
        return sorted({r.period for r in self.sheet_results if r.period is not None})

    def close(self) -> None:
        self._reader.close()

    def resolve_region(self, cell: Any, province: Any, rtype: Any) -> Resolution:
        region = self.contract.region
        assert region is not None and self._resolver is not None
        if cell is None or (type(cell) is str and not cell.strip()):
            return Resolution(None, "empty region")
        if region.system == "name":
            text = cell if type(cell) is str else _source_text(cell)
            if rtype not in (None, "") and normalize_region_name(text)[1] is None:
                text = f"{_source_text(rtype).strip()} {text}"
            hint = province if province not in (None, "") else None
            return self._resolver.resolve_name(text, province_hint=hint)
        return self._resolver.resolve_code(cell, region.system)

    @staticmethod
    def row_period(raw: Any, regex) -> dt.date | None:
        if isinstance(raw, dt.date):
            return raw.replace(day=1)
        text = str(raw)
        if regex is not None:
            m = regex.search(text)
            if m is None:
                return None
            text = m[1]
        try:
            return parse_period(text)
        except ParseError:
            return None


def _period_from_text(path: Path, text: str, regex, where: str, shown: bool = True) -> dt.date:
    """The period a file name or title cell names. `shown=False` (a cell below the header, which
    may hold personal data) keeps its text out of the error message."""
    candidate = text
    if not shown:
        where = f"{where} (below the header: its text is not shown)"
    said = f"{where} {text!r}" if shown else where
    if regex is not None:
        m = regex.search(text)
        if m is None:
            raise SourceFileError(path, f"no period: {said} does not match /{regex.pattern}/")
        candidate = m[1]
        try:
            return parse_period(candidate)
        except ParseError as exc:
            found = search_period(candidate)
            if found is not None:
                return found
            reason = exc.reason if shown else "not a period"
            raise SourceFileError(path, f"no period: {said}: {reason}") from None
    found = search_period(candidate)
    if found is None:
        raise SourceFileError(path, f"no period: {said} names no month")
    return found


def _period_from_cells(
    path: Path, contract: Contract, sheet: Sheet, rows: list[tuple[int, list]], header_index: int
) -> tuple[dt.date, str]:
    spec = contract.period
    assert spec is not None
    regex = spec.regex()
    sheet_label = f"sheet {sheet.name!r}"
    position = spec.cell_position()
    if position is not None:
        row_index, col_index = position
        col = col_index - sheet.col_offset
        for number, cells in rows:
            if number == row_index + 1:
                value = cells[col] if 0 <= col < len(cells) else ""
                break
        else:
            value = ""
        where = f"cell {spec.cell} of {sheet_label}"
        if isinstance(value, dt.date | dt.datetime):
            return parse_month(value), f"{where} {value.isoformat()!r}"
        text = cell_text(value)
        if not text:
            raise SourceFileError(path, f"no period: {where} is empty")
        # a declared cell that falls in a data row (the layout moved) is not quoted
        shown = row_index + 1 < rows[header_index][0] + contract.header.rows
        period = _period_from_text(path, text, regex, where, shown)
        return period, (f"{where} {text!r}" if shown else where)
    for number, cells in rows[:header_index]:
        for c, value in enumerate(cells):
            text = cell_text(value)
            if not text:
                continue
            address = f"{sheet.column_name(c)}{number}"
            if regex is not None:
                m = regex.search(text)
                if m is None:
                    continue
                where = f"cell {address} of {sheet_label}"
                return _period_from_text(path, text, regex, where), f"{where} {text!r}"
            found = search_period(text)
            if found is not None:
                return found, f"cell {address} of {sheet_label} {text!r}"
    wanted = f"matching /{regex.pattern}/" if regex is not None else "naming a month"
    raise SourceFileError(path, f"no period: no cell above the header of {sheet_label} {wanted}")


def extract_file(
    path: str | Path,
    contract: Contract,
    *,
    resolver: RegionResolver | None = None,
    sources_dir: str | Path | None = None,
) -> Extraction:
    """Open, check and prepare one source file by its contract (see the module docstring).

    A relative `path` is taken relative to `sources_dir` when given. `resolver` defaults to
    the package reference (`RegionResolver.default()`).
    """
    path = Path(path)
    if not path.is_absolute() and sources_dir is not None:
        path = Path(sources_dir) / path
    if not contract.is_file:
        raise SourceFileError(
            path,
            f"contract {contract.name!r} is a {contract.kind} source,"
            " extracted by its API client, not from a file",
        )
    if contract.region is not None and resolver is None:
        resolver = RegionResolver.default()

    file_period = None
    file_period_source = None
    spec = contract.period
    if spec is not None and spec.source == "filename":
        file_period = _period_from_text(path, path.name, spec.regex(), "file name")
        file_period_source = f"file name {path.name!r}"

    reader = open_source(
        path,
        contract.kind,
        encoding=contract.encoding,
        delimiter=contract.delimiter,
        max_cells=contract.limits.max_cells,
        max_line_bytes=contract.limits.max_line_bytes,
    )
    return extract_reader(
        path,
        contract,
        reader,
        resolver=resolver,
        period=file_period,
        period_source=file_period_source,
    )


def extract_reader(
    path: Path,
    contract: Contract,
    reader: SourceReader,
    *,
    resolver: RegionResolver | None = None,
    period: dt.date | None = None,
    period_source: str | None = None,
) -> Extraction:
    """Prepare every sheet of an opened reader by the contract: a file's, or the records of an
    API source (`cakupan.sources.api`), which so land and are accepted as a file's rows.
    `period` applies to every row (a file name's, a request's); closes the reader on a fault."""
    if contract.region is not None and resolver is None:
        resolver = RegionResolver.default()
    file_period, file_period_source = period, period_source
    try:
        prepared = [
            _prepare_sheet(path, contract, reader, name, file_period, file_period_source)
            for name in reader.select(contract.sheets)
        ]
    except BaseException:
        reader.close()
        raise

    if period is None:
        sheet_periods = {p.result.period for p in prepared}
        if len(sheet_periods) == 1 and None not in sheet_periods:
            period = sheet_periods.pop()
            period_source = prepared[0].result.period_source
    return Extraction(contract, path, reader, prepared, resolver, period, period_source)


def _prepare_sheet(
    path: Path,
    contract: Contract,
    reader: SourceReader,
    name: str,
    file_period: dt.date | None,
    file_period_source: str | None,
) -> Prepared:
    sheet = reader.sheet(name)
    label = None if reader.kind == "csv" else name
    buffer = list(itertools.islice(sheet.rows, contract.header.max_search_rows))
    if not buffer:
        raise SourceFileError(
            path, f"empty sheet: sheet {name!r} has no cells" if label else "empty file (no rows)"
        )
    aliases = {n: f.all_aliases() for n, f in contract.fields.items()}
    try:
        header = find_header(
            buffer,
            aliases,
            contract.required_fields(),
            header_rows=contract.header.rows,
            merged=sheet.merged_ranges(),
            sheet=label,
        )
    except HeaderNotFound as exc:
        raise SourceFileError(path, str(exc)) from None

    period, period_source = file_period, file_period_source
    if contract.period is not None and contract.period.source == "cell":
        period, period_source = _period_from_cells(path, contract, sheet, buffer, header.index)

    columns = header.columns
    result = SheetResult(
        sheet=label,
        header_row=header.row,
        header_rows=header.rows,
        columns=columns,
        column_letters={f: sheet.column_name(c) for f, (c, _) in columns.items()},
        unmatched=header.unmatched,
        missing=[f for f in contract.fields if f not in columns],
        period=period,
        period_source=period_source,
    )
    start = header.index + header.rows
    data = itertools.chain(buffer[start:], sheet.rows)
    return Prepared(sheet, result, data, header.index, header.texts)
