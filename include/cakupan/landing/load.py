"""Load one source file: land its rows unchanged (one transaction), then accept them (another).

1. **Land** (`cakupan.landing.text`): the rows as text, by COPY, in a table of the load's own,
   with the load recorded in `raw.loads` as `landed`. All or nothing: a fault rolls it back.
2. **Accept** (`cakupan.landing.accept`): typed, region-matched rows into the contract's raw
   table and every row that cannot be understood into `raw.rejects`; what earlier loads of the
   same file or periods landed is replaced; `raw.loads` gets its counts and `succeeded`. All or
   nothing again: a fault leaves the landed rows, marks the load `failed` with the error, and a
   rerun of the file replaces both.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path

from cakupan.landing import text
from cakupan.landing.accept import Acceptance, plans_for
from cakupan.landing.copy import (
    LoadResult,
    _record_failure,
    ensure_landing_schema,
    ensure_raw_table,
    replace_previous,
)
from cakupan.sources.contracts import Contract
from cakupan.sources.extract import Extraction, source_keys

log = logging.getLogger(__name__)


def _data_offset(path: Path, lines_before: int) -> int | None:
    """Byte offset of line `lines_before + 1`, or None when a quote could span lines there."""
    with path.open("rb") as f:
        for _ in range(lines_before):
            line = f.readline()
            if b'"' in line:
                return None
        return f.tell()


def sheets_to_land(extraction: Extraction) -> list[text.SheetToLand]:
    contract = extraction.contract
    items = []
    for prepared in extraction._prepared:
        result = prepared.result
        first = result.data_start_row
        item = text.SheetToLand(
            sheet=result.sheet,
            keys=source_keys(prepared),
            first_row=first,
            rows=prepared.data,
            keys_for=lambda width, prepared=prepared: source_keys(prepared, width),
            date_columns=tuple(
                index
                for name, (index, _) in result.columns.items()
                if contract.fields[name].type in ("date", "month")
            ),
        )
        if result.sheet is None:  # a CSV: stream the file itself when it is simple enough
            offset = _data_offset(extraction.path, first - 1)
            if offset is not None:
                item.csv_path = extraction.path
                item.csv_offset = offset
                item.delimiter = extraction.delimiter
                item.encoding = extraction.encoding
        items.append(item)
    return items


def land_file(
    conn,
    contract: Contract,
    extraction: Extraction,
    *,
    source_file: str,
    run_id: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> LoadResult:
    started = dt.datetime.now(dt.UTC)
    raw_table = contract.raw_table
    sha256 = None  # a streamed CSV is hashed as it lands
    # 1. land
    try:
        ensure_landing_schema(conn)
        text.ensure_landed_schema(conn)
        with conn.cursor() as cur:
            cur.execute(
                "insert into raw.loads (source, raw_table, source_file, source_sha256, status,"
                " run_id, started_at) values (%s, %s, %s, %s, 'landed', %s, %s)"
                " returning load_id",
                (contract.name, raw_table, source_file, sha256, run_id, started),
            )
            load_id = cur.fetchone()[0]
            landed = []
            for index, item in enumerate(sheets_to_land(extraction)):
                sheet = text.land_sheet(cur, raw_table, load_id, index, item)
                if item.sha256 is not None:
                    extraction.sha256 = item.sha256
                text.register(cur, load_id, sheet)
                landed.append(sheet)
            sha256 = extraction.sha256
            cur.execute(
                "update raw.loads set rows_read = %s, source_sha256 = %s where load_id = %s",
                (sum(s.rows_landed for s in landed), sha256, load_id),
            )
        conn.commit()
    except BaseException as exc:
        conn.rollback()
        extraction.close()
        _record_failure(
            conn, contract.name, raw_table, source_file, sha256, None, run_id, started, exc
        )
        raise
    extraction.close()
    landed_at = dt.datetime.now(dt.UTC)
    if progress is not None:
        progress(
            f"{source_file}: {sum(s.rows_landed for s in landed):,} rows landed as text"
            f" in {(landed_at - started).total_seconds():.1f} s; accepting"
        )
    log.info(
        "%s: %s rows landed as text (load %s)",
        source_file,
        sum(s.rows_landed for s in landed),
        load_id,
    )
    # 2. accept
    try:
        with conn.cursor() as cur:
            # one acceptor per raw table at a time, taken before the table is created: parallel
            # first loads of one source would otherwise race on `create table if not exists`
            cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (raw_table,))
        ensure_raw_table(conn, raw_table, contract.field_types())
        with conn.cursor() as cur:
            counts = Acceptance(cur, contract, extraction, plans_for(extraction, landed)).run(
                load_id=load_id, loaded_at=started, source_file=source_file, sha256=sha256
            )
            replaced = replace_previous(
                cur,
                source=contract.name,
                raw_table=raw_table,
                load_id=load_id,
                periods=counts["periods"],
                source_file=source_file,
                replace_by_file=True,
            )
            text.drop_landed(cur, replaced)
            finished = dt.datetime.now(dt.UTC)
            cur.execute(
                "update raw.loads set status = 'succeeded', periods = %s, rows_read = %s,"
                " rows_landed = %s, rows_rejected = %s, rows_skipped = %s, finished_at = %s"
                " where load_id = %s",
                (
                    counts["periods"],
                    counts["rows_read"],
                    counts["rows_landed"],
                    counts["rows_rejected"],
                    counts["rows_skipped"],
                    finished,
                    load_id,
                ),
            )
        conn.commit()
    except BaseException as exc:
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute(
                "update raw.loads set status = 'failed', error = %s, finished_at = now()"
                " where load_id = %s",
                (str(exc)[:2000], load_id),
            )
            text.drop_landed(cur, [load_id])
        conn.commit()
        raise
    return LoadResult(
        load_id=load_id,
        source=contract.name,
        raw_table=raw_table,
        source_file=source_file,
        rows_read=counts["rows_read"],
        rows_landed=counts["rows_landed"],
        rows_rejected=counts["rows_rejected"],
        rows_skipped=counts["rows_skipped"],
        periods=counts["periods"],
        replaced_loads=replaced,
        seconds=(finished - started).total_seconds(),
        accept_seconds=(finished - landed_at).total_seconds(),
    )


__all__ = ["land_file", "sheets_to_land"]
