"""Load a person-level file (a contract with `persons:`): read, check, key and accept its rows
into `restricted.person_records` and `raw.person_rejects`, streaming.

After the file's own checks (`cakupan.sources.extract`: encoding, line limit, header, period),
its rows are read in batches of 100,000 (a UTF-8 CSV by polars' reader; anything else, a
workbook or a CSV polars cannot take as it is, from the source reader's rows), each batch is
typed, checked and keyed as a polars frame (`cakupan.landing.person_frame`: the NIK rule, dates,
codes, HMAC-SHA256) and its usable rows go to their kab/kota's partition (created on demand) by
ONE COPY that stays open across batches: the server writes one batch while the next is checked.
The rejects (reasons and keyed NIKs, never a value in clear) follow by COPY at the end. The key
never reaches the server at all.

Why not SQL, as the aggregate landing does: typing, checking and keying a million people in
set-based SQL cost 7.7 s after a 1.3 s landing, with the insert another 3.7 s (12.5 s in all
against 1.46 s for `psql \\copy` of the file); the same checks over polars columns take a
second, beside a COPY the server needs anyway.

Provenance and replacement are the aggregate landing's: `raw.loads`, the load's lock, its scope
in `raw.load_scopes` (its period, and the kab/kota its file is for when the contract's
`district_pattern` says so), what it supersedes (`supersede`: a rerun of a file replaces its
earlier load; another source's rows are never touched), and the shrink guard. The whole load is
one transaction: a fault mid-file leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from cakupan.landing.person_frame import (
    RECORD_COLUMNS,
    Column,
    Lookups,
    Plan,
    check,
    csv_batches,
    row_batches,
)
from cakupan.landing.person_schema import ensure_partitions, ensure_person_schema
from cakupan.landing.raw import (
    LoadResult,
    ensure_landed_schema,
    ensure_landing_schema,
    hold_load_lock,
    record_failure,
    recover_interrupted,
    release_load_lock,
)
from cakupan.landing.removal import purge_superseded
from cakupan.landing.scopes import ensure_scopes_schema, refuse_shrink, supersede
from cakupan.parsing.wilayah import KECAMATAN, wilayah
from cakupan.sources.contracts import PERSON_DATES, PERSON_TABLE, Contract
from cakupan.sources.errors import SourceFileError
from cakupan.sources.extract import Extraction
from cakupan.sources.landed import SheetToLand, _csv_width, _row_values, sheets_to_land
from cakupan.sources.readers import file_sha256
from cakupan.warehouse.person_key import Keyer

log = logging.getLogger(__name__)


def land_persons(
    conn,
    contract: Contract,
    extraction: Extraction,
    key: bytes,
    *,
    source_file: str,
    run_id: str | None = None,
    progress: Callable[[str], None] | None = None,
    allow_shrink: bool = False,
) -> LoadResult:
    """Load one person-level file (see the module docstring); returns its counts."""
    started = dt.datetime.now(dt.UTC)
    load_id = 0
    try:
        contract.file_district(source_file)  # a name without its kab/kota: refused first
        load_id = _begin(conn, contract, source_file, run_id, started)
        result = _accept(conn, contract, extraction, key, load_id, source_file, progress)
        with conn.cursor() as cur:
            record_scope(cur, contract, load_id, source_file, result)
            if not allow_shrink:
                refuse_shrink(cur, source_file, contract, load_id)
            _finish(cur, result, started)
        conn.commit()
        return result
    except BaseException as exc:
        _failed(conn, contract, source_file, run_id, started, load_id, exc)
        raise
    finally:
        extraction.close()
        release_load_lock(conn, load_id)


def _begin(conn, contract: Contract, source_file: str, run_id, started) -> int:
    """The load's row (`landed`), its lock held for the session; committed."""
    ensure_landing_schema(conn)
    ensure_landed_schema(conn)  # none of a person load's, but `cakupan loads remove` reads it
    ensure_scopes_schema(conn)
    ensure_person_schema(conn)
    recover_interrupted(conn)
    with conn.cursor() as cur:
        cur.execute(
            "insert into raw.loads (source, raw_table, source_file, status, run_id, started_at)"
            " values (%s, %s, %s, 'landed', %s, %s) returning load_id",
            (contract.name, PERSON_TABLE, source_file, run_id, started),
        )
        load_id = cur.fetchone()[0]
        hold_load_lock(cur, load_id)
    conn.commit()
    return load_id


def _failed(conn, contract, source_file, run_id, started, load_id, exc) -> None:
    """Mark the load failed (its rows were rolled back), or record a load that never began."""
    if conn.closed:
        return
    try:
        conn.rollback()
        if not load_id:
            record_failure(conn, contract.name, PERSON_TABLE, source_file, None, None, run_id,
                           started, exc)  # fmt: skip
            return
        with conn.cursor() as cur:
            cur.execute(
                "update raw.loads set status = 'failed', error = %s, finished_at = now()"
                " where load_id = %s",
                (str(exc)[:2000], load_id),
            )
        conn.commit()
    except Exception:  # the load's own error matters more than its bookkeeping
        log.warning("could not record the failure of load %s", load_id, exc_info=True)


def _accept(conn, contract, extraction, key, load_id, source_file, progress) -> LoadResult:
    """In one transaction (committed by the caller): each sheet's rows staged in batches and
    streamed to `restricted.person_records` by one COPY, then the rejects."""
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (PERSON_TABLE,))
        result = LoadResult(load_id, contract.name, PERSON_TABLE, source_file, 0, 0, 0, 0)
        period = extraction.period
        if period is None:
            raise SourceFileError(extraction.path, "no period for a person-level file")
        result.periods = [period]
        writer = _Writer(cur, contract, load_id, source_file, progress)
        lookups, keyer = _lookups(), Keyer(key)
        for index, item in enumerate(sheets_to_land(extraction)):
            found = extraction.prepared[index].result.columns
            started = time.perf_counter()
            plan = Plan(contract, _columns(contract, found, False), lookups, keyer)
            if not _csv_sheet(cur, writer, plan, item, index):
                plan = Plan(contract, _columns(contract, found, True), lookups, keyer)
                writer.write(row_batches(*_numbered_rows(contract, item, found)), plan, index)
            log.info("%s: %s rows checked, keyed and written in %.1f s", source_file,
                     f"{writer.counts.read:,}", time.perf_counter() - started)  # fmt: skip
        writer.finish(result)
        if extraction.sha256 is None:  # a workbook's hash (a CSV's was taken as it was read)
            extraction.sha256 = file_sha256(extraction.path)
        sha = extraction.sha256
        cur.execute("update raw.loads set source_sha256 = %s where load_id = %s", (sha, load_id))
    return result


@functools.cache
def _lookups() -> Lookups:
    """The reference of the checks (`person_frame.Lookups`), from the packaged region lists."""
    from cakupan.parsing.regions import RegionResolver  # the regions of regions.csv

    regions = RegionResolver.default().regions
    districts = sorted(r for r in regions if len(r) == 5)
    covered = {w.district_code for w in wilayah()}
    return Lookups(
        prefixes=[w.code.replace(".", "") for w in wilayah() if w.level == KECAMATAN],
        provinces=sorted(r for r in regions if len(r) == 2),
        districts=districts,
        covered=covered,
        desa={w.code: (w.district_code, w.code[:8]) for w in wilayah() if w.level != KECAMATAN},
        kecamatan={w.code: w.district_code for w in wilayah() if w.level == KECAMATAN},
    )


def _csv_sheet(cur, writer: _Writer, plan: Plan, item: SheetToLand, index: int) -> bool:
    """A UTF-8 CSV read by polars in batches (its hash taken beside it, in a thread); False
    when the file is not one polars can read as it is (a row wider than the header, another
    encoding): nothing of it is kept, and the caller reads the reader's rows instead."""
    if item.csv_path is None or item.encoding.lower() not in ("utf-8", "utf-8-sig"):
        return False
    path = Path(item.csv_path)
    with ThreadPoolExecutor(1) as pool:
        hashed = pool.submit(file_sha256, path)  # hashlib releases the GIL: beside the load
        cur.execute("savepoint cakupan_person_csv")
        try:
            writer.write(
                csv_batches(
                    path,
                    skip_lines=item.first_row - 1,
                    width=len(item.keys),
                    delimiter=item.delimiter,
                ),  # fmt: skip
                plan,
                index,
            )
        except pl.exceptions.PolarsError as exc:
            writer.abandon()
            cur.execute("rollback to savepoint cakupan_person_csv")
            log.info("%s: read row by row (%s)", path.name, type(exc).__name__)
            return False
        cur.execute("release savepoint cakupan_person_csv")
        item.sha256 = hashed.result()
    return True


def _numbered_rows(contract: Contract, item: SheetToLand, found: dict):
    """The reader's rows as `(row_number, text, ...)` (1 for the first data row), and their
    width."""
    assert item.rows is not None
    item.date_columns = tuple(
        i for n, (i, _) in found.items() if contract.fields[n].person in PERSON_DATES
    )
    width = len(item.keys)
    if item.csv_path is not None:  # a CSV row may be wider than its header
        width = max(width, _csv_width(item.csv_path, item.encoding, item.delimiter))
    item.keys = item.keys_for(width) if item.keys_for is not None else item.keys
    offset = item.first_row - 1
    rows = _row_values(item.rows, width, item.date_columns)
    return ((number - offset, *texts) for number, *texts in rows), width


@dataclass
class _Counts:
    read: int = 0
    landed: int = 0
    rejected: int = 0
    skipped: int = 0
    invalid: int = 0
    missing: int = 0
    districts: dict[str, int] = field(default_factory=dict)


def copy_records(columns: tuple[str, ...]) -> sql.Composed:
    """The COPY of a sheet's records: their own columns, then those of `columns`."""
    return sql.SQL(
        "copy restricted.person_records (record_id, load_id, row_number, {})"
        " from stdin with (format csv)"
    ).format(sql.SQL(", ").join(map(sql.Identifier, columns)))


class _Writer:
    """One COPY a sheet into `restricted.person_records` that its batches stream into, paused
    only to create a kab/kota's partition (DDL cannot run inside a COPY); the rejects, kept as
    they come, COPYed at the end."""

    def __init__(self, cur, contract: Contract, load_id: int, source_file, progress):
        self.cur, self.contract, self.load_id = cur, contract, load_id
        self.source_file, self.progress = source_file, progress
        self.counts = _Counts()
        self.rejects: list[pl.DataFrame] = []
        self._stack: ExitStack | None = None
        self._copy = None
        self._partitions: set[str] = set()
        self.sheet = 0
        self.columns = RECORD_COLUMNS

    def write(self, batches, plan: Plan, sheet: int) -> None:
        """Check and key each batch of sheet number `sheet` and stream its usable rows."""
        self.sheet, self.columns = sheet, plan.sent_columns()
        for staged in _pipelined(batches, plan):
            usable = staged.select(~pl.col("skipped") & pl.col("unusable").is_null()).to_series()
            kept = staged if usable.all() else staged.filter(usable)  # no copy of a clean batch
            self._count(staged, kept)
            if kept.height:
                self._send(kept)
            rejected = staged.filter(
                ~pl.col("skipped")
                & (pl.col("unusable").is_not_null() | pl.col("nik_reason").is_not_null())
            )
            if rejected.height:
                self.rejects.append(rejected.select(
                    "row_number",
                    pl.concat_str(["unusable", "nik_reason"], separator="; ", ignore_nulls=True)
                    .alias("reason"),
                    "nik_key",
                ))  # fmt: skip
            if self.progress is not None:
                self.progress(f"{self.source_file}: {self.counts.read:,} rows checked and keyed")
        self._pause()

    def _send(self, kept: pl.DataFrame) -> None:
        districts = set(kept["district_code"].unique().to_list()) - {""}
        if districts - self._partitions:
            self._pause()
            ensure_partitions(self.cur, sorted(districts))
            self._partitions |= districts
        if kept["row_number"].max() >= 1 << ROW_BITS:
            raise SourceFileError(self.source_file, f"more than {(1 << ROW_BITS) - 1:,} rows")
        if self._copy is None:
            self._stack = ExitStack()
            self._copy = self._stack.enter_context(
                self.cur.copy(copy_records(self.columns), writer=QueuedLibpqWriter(self.cur))
            )
        rows = kept.select(
            (pl.col("row_number") + record_id(self.load_id, self.sheet, 0)).alias("record_id"),
            pl.lit(self.load_id).alias("load_id"),
            "row_number",
            *self.columns,
        )
        buffer = io.BytesIO()
        rows.write_csv(buffer, include_header=False, null_value="")
        self._copy.write(buffer.getbuffer())

    def _count(self, staged: pl.DataFrame, kept: pl.DataFrame) -> None:
        c = self.counts
        skipped = int(staged["skipped"].sum())
        c.skipped += skipped
        c.rejected += staged.height - skipped - kept.height
        c.landed += kept.height
        c.read += staged.height - skipped
        status = kept["nik_status"]
        c.invalid += int(status.str.starts_with("invalid").sum())
        c.missing += int((status == "missing").sum())
        for district, n in kept.group_by("district_code").len().iter_rows():
            c.districts[district] = c.districts.get(district, 0) + n

    def _pause(self) -> None:
        """End the COPY (the server has every row sent so far)."""
        if self._stack is not None:
            stack, self._stack, self._copy = self._stack, None, None
            stack.close()

    def abandon(self) -> None:
        """A sheet given up (the caller rolls back to before it): its rows are forgotten."""
        if self._stack is not None:
            stack, self._stack, self._copy = self._stack, None, None
            with suppress(Exception):
                stack.__exit__(psycopg.DataError, psycopg.DataError("abandoned"), None)
        self.counts, self.rejects = _Counts(), []
        self._partitions = set()

    def finish(self, result: LoadResult) -> None:
        """The COPY ended, the rejects written, the counts into `result`."""
        self._pause()
        if self.rejects:
            rejects = pl.concat(self.rejects).select(
                pl.lit(self.load_id).alias("load_id"),
                "row_number",
                pl.lit(self.contract.persons.dataset).alias("dataset"),
                "reason",
                "nik_key",
            )
            buffer = io.BytesIO()
            rejects.write_csv(buffer, include_header=False, null_value="")
            with self.cur.copy(
                "copy raw.person_rejects (load_id, row_number, dataset, reason, nik_key)"
                " from stdin with (format csv)"
            ) as copy:
                copy.write(buffer.getbuffer())
        c = self.counts
        result.rows_landed, result.rows_rejected = c.landed, c.rejected
        result.rows_skipped, result.rows_read = c.skipped, c.landed + c.rejected
        result.nik_invalid, result.nik_missing = c.invalid, c.missing
        result.districts = {d: n for d, n in sorted(c.districts.items())}


def _pipelined(batches, plan: Plan):
    """Each batch read, checked and keyed on a thread of its own (polars, without the GIL)
    while the one before is written as CSV and sent: both cores and the server work at once."""
    batches = _first_sliced(batches)

    def next_checked() -> pl.DataFrame | None:
        batch = next(batches, None)
        return None if batch is None else check(batch, plan)

    with ThreadPoolExecutor(1, thread_name_prefix="cakupan-check") as pool:
        pending = pool.submit(next_checked)
        while (checked := pending.result()) is not None:
            pending = pool.submit(next_checked)
            yield checked


FIRST_SLICE = 10_000  # rows: the server's COPY starts after these, not after a whole batch


def _first_sliced(batches):
    """The batches, the first one cut in two: its first `FIRST_SLICE` rows are checked and
    sent alone, so the server starts on them while the rest of it is checked."""
    batches = iter(batches)
    first = next(batches, None)
    if first is not None:
        if first.height > 2 * FIRST_SLICE:
            yield first.slice(0, FIRST_SLICE)
            first = first.slice(FIRST_SLICE)
        yield first
    yield from batches


ROW_BITS, SHEET_BITS = 30, 6


def record_id(load_id: int, sheet: int, row_number: int) -> int:
    """A record's id: its load, its sheet and its row (no sequence to ask in the middle of a
    COPY; up to 2^27 loads, 64 sheets a file, 2^30 rows a sheet)."""
    return (load_id << (ROW_BITS + SHEET_BITS)) | (sheet << ROW_BITS) | row_number


def _columns(
    contract: Contract, found: dict[str, tuple[int, str]], marks: bool
) -> dict[str, Column]:
    """Attribute -> its column in a batch (`c<index + 1>`) and header text, for those found."""
    columns = {}
    for name, (index, header) in found.items():
        attribute = contract.fields[name].person
        columns[attribute] = Column(attribute, f"c{index + 1}", header, marks)
    return columns


def record_scope(cur, contract: Contract, load_id: int, source_file: str, result) -> None:
    """The load's scope: its period, for its file's kab/kota (or every region `*`)."""
    cur.execute(
        "insert into raw.load_scopes (load_id, source, dataset, period, region_code, rows,"
        " regions) values (%s, %s, %s, %s, %s, %s, %s)",
        (load_id, contract.name, contract.persons.dataset, result.periods[0],
         contract.file_district(source_file), result.rows_read, len(result.districts)),
    )  # fmt: skip


def _finish(cur, result: LoadResult, started: dt.datetime) -> None:
    """Counts and `succeeded`; what the load supersedes of its source's earlier loads."""
    finished = dt.datetime.now(dt.UTC)
    cur.execute(
        "update raw.loads set status = 'succeeded', periods = %s, rows_read = %s,"
        " rows_landed = %s, rows_rejected = %s, rows_skipped = %s, finished_at = %s"
        " where load_id = %s",
        (result.periods, result.rows_read, result.rows_landed, result.rows_rejected,
         result.rows_skipped, finished, result.load_id),
    )  # fmt: skip
    wholly = supersede(cur, result.source)
    cur.execute(
        "select load_id from raw.loads where load_id = any(%s::bigint[]) and superseded_by = %s",
        (wholly, result.load_id),
    )
    result.replaced_loads = sorted(r[0] for r in cur.fetchall())
    result.purged_loads = purge_superseded(cur, result.source, PERSON_TABLE)
    result.seconds = (finished - started).total_seconds()


__all__ = ["land_persons", "record_scope"]
