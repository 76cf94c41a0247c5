"""Load a person-level file (a contract with `persons:`): land, check, key and accept its rows
by set-based SQL, into `restricted.person_records` and `raw.person_rejects`.

The aggregate landing (`cakupan.landing.load`) accepts rows with lookups per distinct text,
which is right for a few thousand region rows and far too slow for a register of a million
people. Here, after the file's own checks (`cakupan.sources.extract`: encoding, line limit,
header, period), its bytes are COPYed as they are into a temporary text table (a workbook's
rows through the streaming reader), and ONE `create temp table ... as select` types, checks and
keys every row (`cakupan.landing.person_sql`); two inserts then write the usable rows to their
kab/kota's partition (created on demand) and the rejects. The HMAC key's pads reach the server by
COPY (`_pkey`), never as SQL text or a parameter. Clear personal data never leaves `restricted`:
the temporary tables go with the transaction, rejects hold reasons and keyed NIKs only.

Provenance and replacement are the aggregate landing's: `raw.loads`, the load's lock, its scope
in `raw.load_scopes` (its period, and the kab/kota its file is for when the contract's
`district_pattern` says so), what it supersedes (`supersede`: a rerun of a file replaces its
earlier load; another source's rows are never touched), and the shrink guard.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

from cakupan.landing.person_schema import ensure_partitions, ensure_person_schema
from cakupan.landing.person_sql import (
    NIK_DATES,
    Column,
    Lookups,
    dates_table,
    district_prepass,
    load_statement,
)
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
from cakupan.sources.landed import CHUNK, COPY_ENCODINGS, SheetToLand, land_sheet, sheets_to_land
from cakupan.warehouse.person_key import hmac_pads

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
    """In one transaction (committed by the caller): land each sheet, then one statement."""
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (PERSON_TABLE,))
        lookups = _send_lookups(cur, key)
        lookups.layouts = _date_tables(cur, contract)
        result = LoadResult(load_id, contract.name, PERSON_TABLE, source_file, 0, 0, 0, 0)
        period = extraction.period
        if period is None:
            raise SourceFileError(extraction.path, "no period for a person-level file")
        result.periods = [period]
        for index, item in enumerate(sheets_to_land(extraction)):
            found = extraction.prepared[index].result.columns
            started = time.perf_counter()
            relation, row, marks = _land(cur, contract, index, item, found)
            landed = time.perf_counter()
            if progress is not None:
                progress(f"{source_file}: landed as text; checking and keying")
            columns = _columns(contract, found, marks)
            _ensure_partitions(cur, columns, relation, lookups)
            first_id = _reserve_ids(cur, relation)
            statement = load_statement(
                contract, columns, relation, row, lookups,
                load_id=load_id, period=period, first_id=first_id,
            )  # fmt: skip
            checked = time.perf_counter()
            cur.execute(statement)
            _count(cur.fetchall(), result)
            cur.execute(sql.SQL("drop table {}").format(relation))
            log.info("%s: landed in %.1f s, partitions in %.1f s, checked, keyed and written in"
                     " %.1f s", source_file, landed - started, checked - landed,
                     time.perf_counter() - checked)  # fmt: skip
        sha = extraction.sha256
        cur.execute("update raw.loads set source_sha256 = %s where load_id = %s", (sha, load_id))
    return result


def _reserve_ids(cur, relation) -> int:
    """A block of record ids for the sheet's rows (row numbers 1..N): the first minus one."""
    cur.execute(sql.SQL("select coalesce(max(_row), 0) + 1 from {}").format(relation))
    size = cur.fetchone()[0]
    cur.execute(
        "select nextval('restricted.person_record_id_seq'),"
        " setval('restricted.person_record_id_seq',"
        " nextval('restricted.person_record_id_seq') + %s)",
        (size,),
    )
    return cur.fetchone()[0]


def _ensure_partitions(cur, columns, relation, lookups: Lookups) -> None:
    """Partitions for the kab/kota codes the rows' desa and kecamatan codes name."""
    prepass = district_prepass(columns, relation)
    if prepass is None:
        return
    cur.execute(prepass)
    known = {d.replace(".", ""): d for d in lookups.districts}
    ensure_partitions(cur, [known[r[0]] for r in cur.fetchall() if r[0] in known])


def _count(rows: list[tuple], result: LoadResult) -> None:
    """The load statement's counts into `result` (see `load_statement`)."""
    for kind, district, n, invalid, missing in rows:
        if kind == "x":
            result.rows_skipped += n
            result.rows_rejected += invalid
            continue
        result.rows_landed += n
        result.nik_invalid += invalid
        result.nik_missing += missing
        result.districts[district] = result.districts.get(district, 0) + n
    result.rows_read = result.rows_landed + result.rows_rejected


def _date_tables(cur, contract: Contract) -> dict[str, str]:
    """A `_dates_<n>` table per date layout the contract's fields use; layout -> its name."""
    layouts: dict[str, str] = {}
    for spec in contract.fields.values():
        if spec.person in PERSON_DATES and spec.date_layout() not in layouts:
            name = f"_dates_{len(layouts)}"
            cur.execute(dates_table(name, spec.date_layout()))
            layouts[spec.date_layout()] = name
    return layouts


def _send_lookups(cur, key: bytes) -> Lookups:
    """The HMAC pads (`_pkey`, by COPY) and the lookups of the checks: the NIK's first six
    digits, its DDMMYY, the desa and kecamatan codes."""
    ipad, opad = hmac_pads(key)
    cur.execute("create temp table _pkey (ipad bytea, opad bytea) on commit drop")
    with cur.copy("copy _pkey from stdin with (format binary)") as copy:
        copy.set_types(["bytea", "bytea"])
        copy.write_row((ipad, opad))
    from cakupan.parsing.regions import RegionResolver  # the regions of regions.csv

    regions = RegionResolver.default().regions
    districts = sorted(r for r in regions if len(r) == 5)
    covered = {w.district_code for w in wilayah()}
    prefixes = [(w.code.replace(".", ""),) for w in wilayah() if w.level == KECAMATAN]
    prefixes += [(d.replace(".", "") + f"{k:02d}",) for d in districts if d not in covered
                 for k in range(100)]  # fmt: skip
    cur.execute(
        "create temp table _nik_prefixes (code6 text) on commit drop;"
        " create temp table _desa (code text, district_code text, kecamatan_code text)"
        " on commit drop; create temp table _kec (code text, district_code text) on commit drop"
    )
    _copy(cur, "_nik_prefixes", prefixes)
    _copy(cur, "_desa", [(w.code, w.district_code, w.code[:8]) for w in wilayah()
                         if w.level != KECAMATAN])  # fmt: skip
    _copy(cur, "_kec", [(w.code, w.district_code) for w in wilayah() if w.level == KECAMATAN])
    cur.execute(NIK_DATES)
    cur.execute("analyze _nik_prefixes; analyze _desa; analyze _kec")
    provinces = sorted(r for r in regions if len(r) == 2)
    return Lookups({}, provinces, districts, covered)


def _copy(cur, table: str, rows: list[tuple]) -> None:
    with cur.copy(sql.SQL("copy {} from stdin").format(sql.Identifier(table))) as copy:
        for row in rows:
            copy.write_row(row)


def _columns(
    contract: Contract, found: dict[str, tuple[int, str]], marks: bool
) -> dict[str, Column]:
    """Attribute -> its landed column (`c<index + 1>`) and header text, for the columns found."""
    columns = {}
    for name, (index, header) in found.items():
        attribute = contract.fields[name].person
        columns[attribute] = Column(attribute, f"c{index + 1}", header, marks)
    return columns


def _land(cur, contract: Contract, index: int, item: SheetToLand, found: dict):
    """COPY one sheet into a temporary text table; (its relation, its row-number SQL). A CSV
    streams its bytes (row numbers from an identity column); anything else, or a CSV whose
    shape COPY refuses, lands the reader's rows (`cakupan.sources.landed`)."""
    relname = f"_pl{index}"
    item.date_columns = tuple(
        i for n, (i, _) in found.items() if contract.fields[n].person in PERSON_DATES
    )
    if item.csv_path is not None:
        cur.execute("savepoint cakupan_person_copy")
        try:
            relation = _copy_csv(cur, relname, item)
            cur.execute("release savepoint cakupan_person_copy")
            return relation, sql.SQL("_row"), False
        except psycopg.DataError:
            cur.execute("rollback to savepoint cakupan_person_copy")
            item.csv_path = None
    landed = land_sheet(cur, "pg_temp", relname, index, item)
    row = sql.SQL("(_row - {})").format(sql.Literal(landed.first_row - 1))
    return landed.relation(), row, True


def _copy_csv(cur, relname: str, item: SheetToLand) -> sql.Composable:
    """The CSV's bytes from its first data row on, as they are, into `pg_temp.<relname>`
    (`_row`: 1 for the first data row, in file order); hashes the file."""
    import hashlib

    assert item.csv_path is not None
    width = len(item.keys)
    names = [sql.Identifier(f"c{i}") for i in range(1, width + 1)]
    relation = sql.SQL("pg_temp.{}").format(sql.Identifier(relname))
    cur.execute(
        sql.SQL("create table {} (_row integer generated always as identity (cache 10000), {})")
        .format(relation, sql.SQL(", ").join(sql.SQL("{} text").format(n) for n in names))
    )  # fmt: skip
    statement = sql.SQL(
        "copy {} ({}) from stdin with (format csv, delimiter {}, encoding {})"
    ).format(
        relation,
        sql.SQL(", ").join(names),
        sql.Literal(item.delimiter),
        sql.Literal(COPY_ENCODINGS.get(item.encoding.lower(), "UTF8")),
    )
    with Path(item.csv_path).open("rb") as f, cur.copy(statement) as copy:
        digest = hashlib.sha256(f.read(item.csv_offset))
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            copy.write(chunk)
    item.sha256 = digest.hexdigest()
    return relation


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
