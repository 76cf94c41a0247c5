"""`cakupan sources list|check FILE|schema`: contracts and files.

`register(subparsers)` adds the `sources` command to the main CLI's argparse subparsers; each
sub-command sets `func` (called as `args.func(args)`, returning the exit code). `main(argv)` runs
the same sub-commands standalone: `python -m cakupan.sources.cli check FILE`.

`check` reads the file's header and columns without a database, then accepts its rows with the
load's own code (`cakupan.sources.accept`) on temporary tables of the warehouse connection
(`cakupan.warehouse.connect()`: `AIRFLOW_CONN_WAREHOUSE`, else the embedded PostgreSQL, started
if needed), in a transaction rolled back at the end: nothing in the warehouse changes. Exit
codes: 0 the file would load without rejects, 1 it would load with rejected rows, 2 a file-level
fault (printed as one line `error: <file>: <fault>` on stderr), an unknown or invalid contract
included, or no warehouse to check the rows in. A file that no contract's path glob matches
(`NoContractMatches`) gets the contracts ranked by their fields in its header
(`cakupan.sources.fit`), then exit 2.

`schema [--out FILE]` prints (or writes) the JSON Schema of contract YAML files, the one
committed as `include/cakupan/contracts/contract.schema.json` for editors (docs/CONTRACTS.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from cakupan.parsing.header import header_text
from cakupan.sources.accept import CheckOutcome, check_file
from cakupan.sources.contracts import SCHEMA_FILE, Contract, contract_schema_text, load_contracts
from cakupan.sources.errors import ContractError, NoContractMatches, SourceFileError
from cakupan.sources.extract import Extraction, SheetResult, extract_file
from cakupan.sources.fit import Fit, contract_for_file, file_kind, rank_contracts
from cakupan.warehouse import WarehouseUnreachable, connect


def _add_commands(sub) -> None:
    list_parser = sub.add_parser("list", help="list the declared source contracts")
    list_parser.add_argument(
        "--contracts-dir",
        type=Path,
        default=None,
        help="folder of contract YAML files (default: the package's)",
    )
    list_parser.set_defaults(func=cmd_list)

    check = sub.add_parser(
        "check",
        help="check a source file against its contract without loading it",
        description="Show which contract matches FILE, where its header is, how columns map,"
        " how many rows would be accepted or rejected, and every problem. The rows are"
        " accepted by the load's own code, on temporary tables in the warehouse"
        " (AIRFLOW_CONN_WAREHOUSE, else the embedded PostgreSQL, started if needed), and"
        " rolled back: nothing is loaded. A file no contract's path glob matches gets the"
        " contracts ranked by their fields in its header instead."
        " Exit 0: no rejects; 1: rejects; 2: file-level fault, no contract, or no warehouse.",
    )
    check.add_argument("file", type=Path)
    check.add_argument(
        "--contract",
        default=None,
        help="contract name (default: the one whose path glob matches; when none does, the"
        " contracts whose fields fit the file's header are ranked)",
    )
    check.add_argument(
        "--sample",
        type=int,
        default=5,
        metavar="N",
        help="how many parsed rows to show (default 5)",
    )
    check.add_argument(
        "--contracts-dir",
        type=Path,
        default=None,
        help="folder of contract YAML files (default: the package's)",
    )
    check.add_argument(
        "--sources-dir",
        type=Path,
        default=None,
        help="folder the contracts' path globs are relative to",
    )
    check.set_defaults(func=cmd_check)

    schema = sub.add_parser(
        "schema",
        help="print the JSON Schema of contract YAML files (for editors)",
        description="Print the JSON Schema of contract YAML files generated from the contract"
        f" model; after changing the model, write it with --out {SCHEMA_FILE.name} in"
        " include/cakupan/contracts/ (a unit test checks the committed file is current).",
    )
    schema.add_argument(
        "--out", type=Path, default=None, help="write the schema to this file (default: stdout)"
    )
    schema.set_defaults(func=cmd_schema)


def register(subparsers) -> argparse.ArgumentParser:
    """Add `sources list|check` to a main CLI's `add_subparsers()` object."""
    parser = subparsers.add_parser(
        "sources", help="source contracts: list them, check a file, their JSON Schema"
    )
    sub = parser.add_subparsers(dest="sources_command", metavar="{list,check,schema}")
    sub.required = True
    _add_commands(sub)
    return parser


def cmd_list(args: argparse.Namespace) -> int:
    try:
        contracts = load_contracts(args.contracts_dir)
    except ContractError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = [("name", "kind", "path", "raw table")]
    for c in contracts.values():
        rows.append((c.name, c.kind, c.path or c.url or c.connection or "", c.raw_table))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3])
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    text = contract_schema_text()
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


def _show(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return repr(value)


def _where(sheet: str | None, row: int, column: str | None) -> str:
    parts = [f"sheet {sheet!r}"] if sheet is not None else []
    parts.append(f"row {row}")
    if column:
        parts.append(f"column {column!r}")
    return " ".join(parts)


def cmd_check(args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        contracts = load_contracts(args.contracts_dir)
        contract, how = contract_for_file(
            path, contracts, name=args.contract, sources_dir=args.sources_dir
        )
        extraction = extract_file(path, contract)
    except NoContractMatches:
        return _print_fits(path, rank_contracts(path, contracts))
    except (SourceFileError, ContractError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _print_file(extraction, how)
    for result in extraction.sheet_results:
        _print_sheet(contract, result, several=len(extraction.sheet_results) > 1)
    if contract.persons is not None:
        extraction.close()
        return _print_persons(contract, path)
    try:
        conn = connect(application_name="cakupan-sources-check")
    except WarehouseUnreachable as exc:
        extraction.close()
        print(f"error: {path}: rows not checked: {exc}", file=sys.stderr)
        return 2
    try:
        outcome = check_file(conn, extraction, samples=args.sample)
    except SourceFileError as exc:  # a fault found while reading the rows
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        conn.close()
    return _print_rows(contract, outcome)


def _print_persons(contract: Contract, path: Path) -> int:
    """A person-level file: what was checked here, and what only a load checks (its rows hold
    personal data, which a check never shows)."""
    try:
        district = contract.file_district(path.name)
    except SourceFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    scope = "its whole period" if district == "*" else f"kab/kota {district} of its period"
    print(f"persons:  dataset {contract.persons.dataset}; a load replaces {scope}")
    print(
        "rows:     not checked here: a person-level file's rows are checked (NIK: 16 digits,"
        " region codes, birth date and sex; dates; desa codes), keyed and written by `cakupan"
        " load` in one statement, the rejected ones listed with their reasons in"
        " raw.person_rejects; no row is shown here (personal data)"
    )
    print("result:   the file's header, columns and period fit its contract")
    return 0


def _print_fits(path: Path, fits: list[Fit]) -> int:
    """No contract's path glob matches the file: the contracts ranked by their fields in its
    header, and what to do next. Exit 2 (nothing was checked)."""
    print(f"file:     {path}")
    print("contract: none: no contract's path glob matches this file")
    found = [f for f in fits if f.matched]
    if not found:
        print(
            f"error: {path}: no source contract's path glob matches this file;"
            f" {_no_fit(path, fits)}",
            file=sys.stderr,
        )
        return 2
    print("fit:      the contracts whose fields are in the file's header, best first")
    for rank, fit in enumerate(found[:5], start=1):
        _print_fit(rank, fit)
    best = found[0]
    assert best.header is not None
    where = f"sheet {best.sheet!r} " if best.sheet is not None else ""
    print(f"header:   as read at {where}{best.header.span}: {header_text(best.header)}")
    if best.fits:
        print(
            f"next:     cakupan sources check {path} --contract {best.contract.name}; to load such"
            f" files by path, put them where {best.contract.path!r} matches"
        )
    print(
        f"error: {path}: no source contract's path glob matches this file; the contracts whose"
        " fields fit its header are listed above (check it with --contract NAME)",
        file=sys.stderr,
    )
    return 2


def _no_fit(path: Path, fits: list[Fit]) -> str:
    """Why no contract fits a file's header."""
    kind = file_kind(path)
    if kind is None:
        return "Cakupan reads .csv, .xlsx, .xls and .ods files (by their names' ending)"
    if not fits:
        return f"no contract reads {kind} files: write one (docs/CONTRACTS.md)"
    if all(f.fault for f in fits):
        return f"it cannot be read as {kind}: {fits[0].fault}"
    return "no contract's fields are in its header: write a contract for it (docs/CONTRACTS.md)"


def _print_fit(rank: int, fit: Fit) -> None:
    contract, header = fit.contract, fit.header
    assert header is not None
    total = len(contract.fields)
    where = f"sheet {fit.sheet!r} " if fit.sheet is not None else ""
    verdict = (
        "every required field"
        if fit.fits
        else "required fields missing: " + ", ".join(fit.missing_required)
    )
    print(
        f"  {rank}. {contract.name} ({contract.path}): {len(fit.matched)} of {total} fields"
        f" at {where}{header.span}; {verdict}"
    )
    if fit.note:
        print(f"       note: {fit.note}")
    print("       " + ", ".join(f"{f} <- {t!r}" for f, t in fit.matched.items()))


def _print_file(extraction: Extraction, how: str) -> None:
    contract = extraction.contract
    print(f"file:     {extraction.path}")
    print(f"sha256:   {extraction.sha256}")
    print(
        f"contract: {contract.name} ({how}); kind {contract.kind}; raw table {contract.raw_table}"
    )
    if extraction.encoding:
        delim = {"\t": "tab"}.get(extraction.delimiter or "", extraction.delimiter)
        print(f"csv:      encoding {extraction.encoding}, delimiter {delim!r}")
    if contract.period is None:
        print("period:   none (the contract has no period)")
    elif contract.period.source == "column":
        print(f"period:   per row, from field {contract.period.field!r}")
    elif extraction.period is not None:
        print(f"period:   {extraction.period:%Y-%m} (from {extraction.period_source})")


def _print_sheet(contract: Contract, result: SheetResult, *, several: bool) -> None:
    where = f"sheet {result.sheet!r}" if result.sheet is not None else "file"
    last = result.header_row + result.header_rows - 1
    rows = (
        f"row {result.header_row}"
        if last == result.header_row
        else f"rows {result.header_row}-{last}"
    )
    print(f"{where}: header at {rows}, data from row {result.data_start_row}")
    if result.period is not None and several:
        print(f"  period {result.period:%Y-%m} (from {result.period_source})")
    width = max((len(f) for f in result.columns), default=5)
    for name in contract.fields:
        if name in result.columns:
            text = result.columns[name][1]
            print(f"  {name.ljust(width)}  <- {result.column_letters[name]:>3}  {text!r}")
    if result.missing:
        print("  not in this file (null): " + ", ".join(result.missing))
    if result.unmatched:
        print("  unmatched source headers: " + ", ".join(repr(t) for t in result.unmatched))


def _print_rows(contract: Contract, outcome: CheckOutcome) -> int:
    print(
        f"rows:     {outcome.rows_read} read, {outcome.rows_accepted} accepted,"
        f" {outcome.rows_rejected} rejected, {outcome.rows_skipped} skipped"
        " (title, blank and total rows)"
    )
    if outcome.samples:
        print(f"sample ({len(outcome.samples)} of {outcome.rows_accepted} accepted rows):")
        for row in outcome.samples:
            head = _where(row.sheet, row.source_row, None)
            period = f" period {row.period.isoformat()}" if row.period else ""
            region = f" region {row.region_code}" if row.region_code else ""
            values = " ".join(f"{k}={_show(row.values.get(k))}" for k in contract.fields)
            print(f"  {head}:{period}{region} {values}")
    for note, count in outcome.notes.items():
        print(f"note:     {note} ({count} row{'s' if count != 1 else ''})")
    if outcome.rejects:
        print(f"problems ({len(outcome.rejects)}):")
        for row in outcome.rejects:
            print(f"  {_where(row.sheet, row.source_row, row.column)}: {row.reason}")
        print(
            f"result:   would load {outcome.rows_accepted} rows and reject {outcome.rows_rejected}"
        )
        return 1
    print(f"result:   would load {outcome.rows_accepted} rows without rejects")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cakupan sources", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="{list,check,schema}")
    sub.required = True
    _add_commands(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
