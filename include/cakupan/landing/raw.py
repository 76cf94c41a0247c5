"""The `raw` schema's bookkeeping: `raw.loads`, `raw.rejects`, `raw.landed_sheets`, raw tables.

Every load is recorded in `raw.loads`. A load supersedes what earlier loads of the same source
said of its scope (`cakupan.landing.scopes`), so reruns of an interval leave the same current
rows. A failed load is recorded with status `failed` (`record_failure`). A load under way holds
a lock of its own (`hold_load_lock`), so one that a crash interrupted is found by the next load
or listing (`recover_interrupted`); `cakupan.landing.removal` takes loads out again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from cakupan.sources.accept import SQL_TYPES
from cakupan.sources.landed import LandedSheet

log = logging.getLogger(__name__)

PROVENANCE_COLUMNS: list[tuple[str, str]] = [
    ("_load_id", "bigint not null"),
    ("_loaded_at", "timestamptz not null"),
    ("_source_file", "text"),
    ("_source_sha256", "text"),
    ("_sheet", "text"),
    ("_source_row", "integer"),
    ("_period", "date"),
    ("_region_code", "text"),
]

LANDING_DDL = """
create schema if not exists raw;
create table if not exists raw.loads (
    load_id        bigserial primary key,
    source         text not null,
    raw_table      text not null,
    source_file    text,
    source_sha256  text,
    source_url     text,
    periods        date[],
    rows_read      integer,
    rows_landed    integer,
    rows_rejected  integer,
    rows_skipped   integer,
    status         text not null,
    error          text,
    run_id         text,
    superseded_by  bigint,
    started_at     timestamptz not null,
    finished_at    timestamptz
);
create index if not exists loads_source_idx on raw.loads (source, status);
-- API sources (cakupan.sources.api): parameters without any key, and when they were fetched
alter table raw.loads add column if not exists source_params jsonb;
alter table raw.loads add column if not exists fetched_at timestamptz;
alter table raw.loads drop constraint if exists loads_status_check;
alter table raw.loads add constraint loads_status_check
    check (status in ('running', 'landed', 'succeeded', 'failed', 'removed'));
-- `cakupan loads remove`: when and by whom (remove_loads)
alter table raw.loads add column if not exists removed_at timestamptz;
alter table raw.loads add column if not exists removed_by text;
alter table raw.loads add column if not exists purged_at timestamptz;
create table if not exists raw.rejects (
    _load_id       bigint not null,
    _loaded_at     timestamptz not null,
    source         text not null,
    source_file    text,
    sheet          text,
    source_row     integer,
    column_name    text,
    reason         text not null,
    source_values  jsonb
);
create index if not exists rejects_load_idx on raw.rejects (_load_id);
"""

LANDED_DDL = """
create schema if not exists raw;
create table if not exists raw.landed_sheets (
    load_id      bigint not null,
    sheet_index  integer not null,
    sheet        text,
    relname      text not null,
    first_row    integer not null,
    has_row      boolean not null,
    columns      jsonb not null,
    rows_landed  bigint not null,
    primary key (load_id, sheet_index)
);
"""


@dataclass
class LoadResult:
    load_id: int
    source: str
    raw_table: str
    source_file: str | None
    rows_read: int
    rows_landed: int
    rows_rejected: int
    rows_skipped: int
    periods: list[dt.date] = field(default_factory=list)
    replaced_loads: list[int] = field(default_factory=list)
    observations: int = 0  # canonical values written to raw.observations
    purged_loads: list[int] = field(default_factory=list)  # superseded past the retention
    seconds: float = 0.0
    accept_seconds: float = 0.0  # files: typing and matching the landed rows (the rest landed them)
    # person-level loads: rows kept with an invalid or a missing NIK; usable rows per kab/kota
    nik_invalid: int = 0
    nik_missing: int = 0
    districts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["periods"] = [p.isoformat() for p in self.periods]
        return data


_LANDING_SCHEMA_CURRENT = """
select exists (
    select 1 from pg_constraint c
    where c.conrelid = to_regclass('raw.loads') and c.conname = 'loads_status_check'
      and pg_get_constraintdef(c.oid) like '%removed%'
) and exists (
    select 1 from pg_attribute a
    where a.attrelid = to_regclass('raw.loads') and a.attname = 'purged_at' and not a.attisdropped
) and to_regclass('raw.loads_source_idx') is not null
  and to_regclass('raw.rejects_load_idx') is not null
  and exists (
    select 1 from information_schema.columns
    where table_schema = 'raw' and table_name = 'loads' and column_name = 'fetched_at'
  )
"""


def ensure_landing_schema(conn) -> None:
    """Create or update `raw.loads` and `raw.rejects` when they are not current.

    Called at the start of a load's transaction. When there is DDL to run, it runs in a short
    transaction of its own, committed here. Its strong locks (`alter table` takes an exclusive
    lock even when there is nothing to change) must not be held while the file lands. Parallel
    loads would otherwise deadlock: one landing with raw.loads locked, another accepting with
    raw.rejects written."""
    with conn.cursor() as cur:
        cur.execute(_LANDING_SCHEMA_CURRENT)
        if cur.fetchone()[0]:
            return
        # serialise concurrent first-time creation from parallel tasks
        cur.execute("select pg_advisory_xact_lock(hashtext('cakupan.landing_ddl'))")
        cur.execute(LANDING_DDL)
    conn.commit()


def split_table(qualified: str) -> tuple[str, str]:
    schema, _, table = qualified.partition(".")
    if not table:
        return "raw", schema
    return schema, table


def ensure_raw_table(conn, raw_table: str, fields: dict[str, str]) -> list[str]:
    """Create the raw table, or add columns for fields the contract gained; return field order."""
    schema, table = split_table(raw_table)
    with conn.cursor() as cur:
        cur.execute(
            "select column_name from information_schema.columns"
            " where table_schema = %s and table_name = %s",
            (schema, table),
        )
        existing = {row[0] for row in cur.fetchall()}
        cur.execute(
            "select to_regclass(%s) is not null and to_regclass(%s) is not null",
            (f'"{schema}"."{table}_load_idx"', f'"{schema}"."{table}_period_idx"'),
        )
        indexed = cur.fetchone()[0]
        if existing and indexed and all(name in existing for name in fields):
            return list(fields)  # current: no DDL, so no exclusive lock on the raw table
        cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        columns = [
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(ddl))
            for name, ddl in PROVENANCE_COLUMNS
        ]
        columns += [
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(SQL_TYPES[ftype]))
            for name, ftype in fields.items()
        ]
        columns.append(sql.SQL("_source_values jsonb"))
        cur.execute(
            sql.SQL("create table if not exists {}.{} ({})").format(
                sql.Identifier(schema), sql.Identifier(table), sql.SQL(", ").join(columns)
            )
        )
        for name, ftype in fields.items():
            cur.execute(
                sql.SQL("alter table {}.{} add column if not exists {} {}").format(
                    sql.Identifier(schema),
                    sql.Identifier(table),
                    sql.Identifier(name),
                    sql.SQL(SQL_TYPES[ftype]),
                )
            )
        cur.execute(
            sql.SQL("create index if not exists {} on {}.{} (_load_id)").format(
                sql.Identifier(f"{table}_load_idx"), sql.Identifier(schema), sql.Identifier(table)
            )
        )
        cur.execute(
            sql.SQL("create index if not exists {} on {}.{} (_period)").format(
                sql.Identifier(f"{table}_period_idx"), sql.Identifier(schema), sql.Identifier(table)
            )
        )
    return list(fields)


def record_failure(conn, source, raw_table, source_file, sha256, url, run_id, started, exc):
    """Record a failed load in its own transaction; the data itself was rolled back."""
    try:
        ensure_landing_schema(conn)
        with conn.cursor() as cur:
            cur.execute(
                "insert into raw.loads (source, raw_table, source_file, source_sha256, source_url,"
                " status, error, run_id, started_at, finished_at)"
                " values (%s, %s, %s, %s, %s, 'failed', %s, %s, %s, now())",
                (source, raw_table, source_file, sha256, url, str(exc)[:2000], run_id, started),
            )
        conn.commit()
    except Exception:  # the original error matters more than the bookkeeping
        log.exception("could not record the failed load of %s", source_file or url)
        if not conn.closed:  # a lost connection would raise again, hiding the original error
            conn.rollback()


def ensure_landed_schema(conn) -> None:
    """Create `raw.landed_sheets` when missing, in a short transaction of its own (committed),
    as `ensure_landing_schema` does."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('raw.landed_sheets') is not null")
        if cur.fetchone()[0]:
            return
        cur.execute("select pg_advisory_xact_lock(hashtext('cakupan.landed_ddl'))")
        cur.execute(LANDED_DDL)
    conn.commit()


def register(cur, load_id: int, landed: LandedSheet) -> None:
    cur.execute(
        "insert into raw.landed_sheets (load_id, sheet_index, sheet, relname, first_row, has_row,"
        " columns, rows_landed) values (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            load_id,
            landed.sheet_index,
            landed.sheet,
            landed.relname,
            landed.first_row,
            landed.has_row,
            json.dumps(landed.keys, ensure_ascii=False),
            landed.rows_landed,
        ),
    )


def drop_landed(cur, load_ids: list[int]) -> None:
    """Drop the landed tables of superseded loads (the replacement of a rerun)."""
    if not load_ids:
        return
    cur.execute(
        "delete from raw.landed_sheets where load_id = any(%s) returning relname", (load_ids,)
    )
    for (relname,) in cur.fetchall():
        cur.execute(sql.SQL("drop table if exists raw.{}").format(sql.Identifier(relname)))


# --- loads under way and loads a crash interrupted ------------------------------------------
#
# A load is `landed` (or `running`) in `raw.loads` from the commit of its landing until its
# acceptance ends. Its session holds a session-level advisory lock keyed by its load id for all
# that time (taken in the landing transaction, before the row is visible to anyone). A killed
# process, a lost connection or a server restart ends the session and frees the lock, so a
# `landed` load whose lock is free has no one left to finish it. Every writer of a `landed` or
# `running` row must hold this lock, or the next load takes it for an interrupted one.

INTERRUPTED_ERROR = (
    "interrupted: the loading process or its warehouse connection ended before the load"
    " finished (killed, crashed, or the server restarted); nothing it was to replace was"
    " touched and its landed copy was dropped; load the file again"
)


def _lock_key(load_id: int) -> int:
    """The load's key in the two-int advisory-lock space `(hashtext('cakupan.load'), key)`,
    apart from the one-bigint locks taken on raw tables' names."""
    return load_id % 2_147_483_647


# how often the server checks, during a statement, that the loading client is still there
# (PostgreSQL 14+): a killed loader's session, and its lock, then end within this time even in
# the middle of a long acceptance, instead of when the statement is done
CLIENT_CHECK_INTERVAL = "10s"


def hold_load_lock(cur, load_id: int) -> None:
    """Hold the load's lock for the session: until `release_load_lock` or the session's end."""
    cur.execute(
        "select pg_advisory_lock(hashtext('cakupan.load'), %s::integer)", (_lock_key(load_id),)
    )
    cur.execute(
        "select set_config(name, %s, false) from pg_settings"
        " where name = 'client_connection_check_interval'",
        (CLIENT_CHECK_INTERVAL,),
    )


def release_load_lock(conn, load_id: int) -> None:
    """Release the load's lock once its row says how it ended. A connection that is gone has
    released it already; a release that fails leaves it until the session ends, which harms
    nothing: recovery only looks at loads still `landed`."""
    if not load_id or conn.closed:
        return
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select pg_advisory_unlock(hashtext('cakupan.load'), %s::integer)",
                (_lock_key(load_id),),
            )
        conn.commit()
    except Exception:  # the load's own outcome matters more; the lock ends with the session
        log.warning("could not release the lock of load %s", load_id, exc_info=True)


def recover_interrupted(conn) -> list[int]:
    """Mark `failed` every `landed`/`running` load whose lock is free (its session is gone),
    with `INTERRUPTED_ERROR` and an end time, and drop its landed copy; committed here.

    Returns the load ids recovered. The lock is tried per load inside this transaction: a load
    whose session is alive keeps its lock and is left alone, and the update checks the status
    again, so a load that ended between the listing and the try is not touched."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('raw.loads') is not null")
        if not cur.fetchone()[0]:
            conn.commit()
            return []
        cur.execute(
            "select load_id from raw.loads where status in ('landed', 'running') order by load_id"
        )
        interrupted = []
        for (load_id,) in cur.fetchall():
            cur.execute(
                "select pg_try_advisory_xact_lock(hashtext('cakupan.load'), %s::integer)",
                (_lock_key(load_id),),
            )
            if not cur.fetchone()[0]:
                continue  # its session is alive: still under way
            cur.execute(
                "update raw.loads set status = 'failed', error = %s, finished_at = now()"
                " where load_id = %s and status in ('landed', 'running') returning load_id",
                (INTERRUPTED_ERROR, load_id),
            )
            interrupted += [row[0] for row in cur.fetchall()]
        cur.execute("select to_regclass('raw.landed_sheets') is not null")
        if interrupted and cur.fetchone()[0]:
            drop_landed(cur, interrupted)
    conn.commit()
    if interrupted:
        log.warning(
            "interrupted load(s) marked failed, their landed copies dropped: %s",
            ", ".join(map(str, interrupted)),
        )
    return interrupted
