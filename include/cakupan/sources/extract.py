"""Apply a source contract to one file: typed, region-resolved rows, or rejects with a reason.

    extraction = extract_file(path, contract)      # file-level faults raise SourceFileError here
    for row in extraction.rows():                  # ExtractedRow | RejectedRow, lazily
        ...
    extraction.rows_read == extraction.rows_accepted + extraction.rows_rejected

Everything that can make a whole file unusable (unreadable or unsafe file, no matching sheet,
no header, no period in the file name or title cells, too many cells) is checked by
`extract_file` before any row is yielded. Row problems never stop the file: the row is yielded
as a `RejectedRow` naming the column, the value and the reason (`Jumlah Peserta: not a number:
'abc'`, `Kabupaten/Kota: ambiguous region name 'Bogor': ...`, `duplicate of row 12`). Title
rows above the header, blank rows and rows matched by the contract's `skip_rows` are counted in
`rows_skipped` and are not "read". A file-level message quotes file, sheet, header and title
texts, never a cell below the header (see `cakupan.sources.errors`).

No database, no Airflow: the landing (`cakupan.landing`) consumes `rows()`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import operator
from collections import Counter
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
    "ExtractedRow",
    "Extraction",
    "RejectedRow",
    "SheetResult",
    "extract_file",
    "match_contract",
    "value_parser",
]


@dataclass(slots=True)
class ExtractedRow:
    sheet: str | None
    source_row: int
    period: dt.date | None
    region_code: str | None
    values: dict[str, Any]
    source_values: dict[str, Any]


@dataclass(slots=True)
class RejectedRow:
    sheet: str | None
    source_row: int
    column: str | None
    reason: str
    source_values: dict[str, Any]


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
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_skipped: int = 0

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


_NUMERIC = frozenset({int, float})


def _tuple_getter(indexes: list[int]) -> Callable[[list], tuple]:
    if not indexes:
        return lambda row: ()
    if len(indexes) == 1:
        only = indexes[0]
        return lambda row: (row[only],)
    return operator.itemgetter(*indexes)


class _Prepared:
    """One sheet, checked and ready to yield rows."""

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


def source_keys(prepared: _Prepared, width: int = 0) -> list[str]:
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
    """The outcome of `extract_file`: header/period facts now, rows lazily via `rows()`."""

    def __init__(
        self,
        contract: Contract,
        path: Path,
        reader: SourceReader,
        prepared: list[_Prepared],
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
        self.rows_read = 0
        self.rows_accepted = 0
        self.rows_rejected = 0
        self.rows_skipped = 0
        self.notes: Counter[str] = Counter()  # e.g. old region codes mapped to current ones
        self._reader = reader
        self._prepared = prepared
        self._resolver = resolver
        self._started = False

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

    def counts(self) -> dict[str, int]:
        return {
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": self.rows_rejected,
            "rows_skipped": self.rows_skipped,
        }

    def close(self) -> None:
        self._reader.close()

    def rows(self) -> Iterator[ExtractedRow | RejectedRow]:
        """Yield every data row once; the counters are final when this is exhausted."""
        if self._started:
            raise RuntimeError("Extraction.rows() can be iterated only once")
        self._started = True
        return self._rows()

    def _rows(self) -> Iterator[ExtractedRow | RejectedRow]:
        contract = self.contract
        seen: dict[Any, tuple[str | None, int]] = {}
        period_in_key = not (
            contract.period is not None
            and contract.period.source in ("filename", "cell")
            and len(self._prepared) == 1
        )
        try:
            for prepared in self._prepared:
                yield from self._sheet_rows(prepared, seen, period_in_key)
        finally:
            self._reader.close()

    def _sheet_rows(self, prepared: _Prepared, seen: dict, period_in_key: bool):
        contract = self.contract
        result = prepared.result
        sheet_name = result.sheet
        cols = result.columns

        texts = prepared.texts
        keys = source_keys(prepared)
        headed = [(c, k) for c, k in enumerate(keys) if texts[c]]
        unheaded = [(c, k) for c, k in enumerate(keys) if not texts[c]]

        parsers = [
            (
                name,
                cols[name][0],
                cols[name][1],
                value_parser(spec.type, decimal=contract.decimal, thousands=contract.thousands),
            )
            for name, spec in contract.fields.items()
            if name in cols
        ]
        absent = {name: None for name in contract.fields if name not in cols}
        # fast path: integer fields converted together in C (map(int, ...)), the others one by one
        int_parsers = [p for p in parsers if contract.fields[p[0]].type == "integer"]
        other_parsers = [p for p in parsers if contract.fields[p[0]].type != "integer"]
        int_names = [p[0] for p in int_parsers]
        int_get = _tuple_getter([p[1] for p in int_parsers])
        names = [p[0] for p in other_parsers]
        funcs = [p[3] for p in other_parsers]
        getter = _tuple_getter([p[1] for p in other_parsers])
        max_idx = max((p[1] for p in parsers), default=-1)
        skip_rules = [(cols[r.field][0], r.regex()) for r in contract.skip_rows if r.field in cols]

        region = contract.region
        region_idx = cols[region.field][0] if region else None
        region_header = cols[region.field][1] if region else None
        province_idx = (
            cols[region.province_field][0] if region and region.province_field in cols else None
        )
        type_idx = cols[region.type_field][0] if region and region.type_field in cols else None
        region_cache: dict[Any, Resolution] = {}

        period_field = None
        period_regex = None
        if contract.period is not None and contract.period.source == "column":
            period_field = contract.period.field
            period_regex = contract.period.regex()
        constant_period = result.period
        period_header = cols[period_field][1] if period_field in cols else None
        period_cache: dict[Any, dt.date | None] = {}

        key_fields = contract.key
        key_header = (
            region_header
            if region
            else (cols[key_fields[0]][1] if key_fields and key_fields[0] in cols else None)
        )
        check_duplicates = bool(
            region
            or key_fields
            or (period_in_key and (period_field is not None or contract.period is not None))
        )

        read = accepted = rejected = 0
        skipped = prepared.skipped_above
        is_csv = sheet_name is None
        fast_sv = not unheaded
        multi_sheet = len(self._prepared) > 1
        nkeys = len(keys)
        simple_region = province_idx is None and type_idx is None
        region_only_key = (
            check_duplicates and not period_in_key and not key_fields and region_idx is not None
        )
        notes = self.notes
        try:
            for number, row in prepared.data:
                n = len(row)
                if row.count("") == n:
                    skipped += 1
                    continue
                if skip_rules:
                    skip = False
                    for idx, rx in skip_rules:
                        cell = row[idx] if idx < n else ""
                        if cell.__class__ is str and cell and rx.search(cell):
                            skip = True
                            break
                    if skip:
                        skipped += 1
                        continue

                problems: list[tuple[str | None, str]] | None = None
                region_code = None
                if region_idx is not None:
                    cell = row[region_idx] if region_idx < n else ""
                    if simple_region:
                        ckey = cell
                        province = rtype = None
                    else:
                        province = (
                            row[province_idx]
                            if province_idx is not None and province_idx < n
                            else None
                        )
                        rtype = row[type_idx] if type_idx is not None and type_idx < n else None
                        ckey = (cell, province, rtype)
                    res = region_cache.get(ckey)
                    if res is None:
                        res = self._resolve(cell, province, rtype)
                        region_cache[ckey] = res
                    region_code = res.code
                    if region_code is None:
                        problems = [(region_header, f"{region_header}: {res.reason}")]
                    elif res.note:
                        notes[res.note] += 1

                values = None
                if n > max_idx:
                    try:
                        if int_names:
                            cells = int_get(row)
                            ints = list(map(int, cells))
                            if not is_csv and (
                                ints != list(cells) or not set(map(type, cells)) <= _NUMERIC
                            ):
                                raise ValueError  # text, fractions or booleans: slow path
                            values = dict(zip(int_names, ints, strict=True))
                        else:
                            values = {}
                        for name, parse, cell in zip(names, funcs, getter(row), strict=True):
                            values[name] = parse(cell)
                    except (ParseError, ValueError, TypeError, OverflowError):
                        values = None
                if values is None:  # a short row or a bad cell: find every problem
                    values = {}
                    for name, idx, header, parse in parsers:
                        cell = row[idx] if idx < n else ""
                        try:
                            values[name] = parse(cell)
                        except ParseError as exc:
                            values[name] = None
                            problems = problems or []
                            problems.append((header, f"{header}: {exc.reason}"))
                if absent:
                    values.update(absent)

                period = constant_period
                if period_field is not None:
                    raw = values.get(period_field)
                    if raw is None:
                        if not problems or all(h != period_header for h, _ in problems):
                            problems = problems or []
                            problems.append((period_header, f"{period_header}: no period"))
                    else:
                        period = period_cache.get(raw)
                        if period is None:
                            period = self._row_period(raw, period_regex)
                            if len(period_cache) < 100_000:
                                period_cache[raw] = period
                        if period is None:
                            problems = problems or []
                            problems.append(
                                (period_header, f"{period_header}: not a period: {raw!r}")
                            )

                if problems and all(c.__class__ is str and not c.strip() for c in row):
                    skipped += 1  # whitespace-only row: blank
                    continue

                if fast_sv and n == nkeys:
                    if is_csv:
                        source_values = dict(zip(keys, row, strict=True))
                    else:
                        source_values = dict(zip(keys, map(_source_text, row), strict=True))
                else:
                    source_values = self._source_values(
                        prepared, row, keys, headed, unheaded, is_csv
                    )

                read += 1
                if problems is None and check_duplicates:
                    if region_only_key:
                        dkey = region_code
                    else:
                        parts = []
                        if period_in_key:
                            parts.append(period)
                        if region_idx is not None:
                            parts.append(region_code)
                        for k in key_fields:
                            parts.append(values.get(k))
                        dkey = tuple(parts)
                    first = seen.get(dkey)
                    if first is None:
                        seen[dkey] = (sheet_name, number) if multi_sheet else number
                    else:
                        if multi_sheet:
                            first_sheet, first = first
                            where = (
                                "" if first_sheet == sheet_name else f" in sheet {first_sheet!r}"
                            )
                        else:
                            where = ""
                        problems = [(key_header, f"duplicate of row {first}{where}")]
                if problems:
                    rejected += 1
                    yield RejectedRow(
                        sheet_name,
                        number,
                        problems[0][0],
                        "; ".join(p[1] for p in problems),
                        source_values,
                    )
                else:
                    accepted += 1
                    yield ExtractedRow(
                        sheet_name, number, period, region_code, values, source_values
                    )
        finally:
            result.rows_read, result.rows_accepted = read, accepted
            result.rows_rejected, result.rows_skipped = rejected, skipped
            self.rows_read += read
            self.rows_accepted += accepted
            self.rows_rejected += rejected
            self.rows_skipped += skipped

    @staticmethod
    def _source_values(prepared, row, keys, headed, unheaded, is_csv) -> dict[str, Any]:
        n = len(row)
        if is_csv:
            source_values = {k: row[c] for c, k in headed if c < n}
        else:
            source_values = {k: _source_text(row[c]) for c, k in headed if c < n}
        for c, k in unheaded:
            if c < n and row[c] != "":
                source_values[k] = _source_text(row[c])
        for c in range(len(keys), n):
            if row[c] != "":
                source_values[prepared.sheet.column_name(c)] = _source_text(row[c])
        return source_values

    def _resolve(self, cell: Any, province: Any, rtype: Any) -> Resolution:
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
    def _row_period(raw: Any, regex) -> dt.date | None:
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
    )
    try:
        prepared = [
            _prepare_sheet(path, contract, reader, name, file_period, file_period_source)
            for name in reader.select(contract.sheets)
        ]
    except BaseException:
        reader.close()
        raise

    period, period_source = file_period, file_period_source
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
) -> _Prepared:
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
    return _Prepared(sheet, result, data, header.index, header.texts)
