"""COPY rows into `raw.<table>` with provenance; record every load in `raw.loads`.

One load is one transaction: the raw rows, the rejected rows and the `raw.loads` row commit
together or not at all. A load replaces exactly what earlier loads of the same source file or
of the same periods landed, so reruns of an interval leave the same rows. A failed load leaves
the raw tables as they were and is recorded in `raw.loads` with status `failed`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg2
from psycopg2 import sql

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
SQL_TYPES = {
    "text": "text",
    "integer": "bigint",
    "number": "numeric",
    "percent": "numeric",
    "date": "date",
    "month": "date",
}

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
alter table raw.loads drop constraint if exists loads_status_check;
alter table raw.loads add constraint loads_status_check
    check (status in ('running', 'landed', 'succeeded', 'failed'));
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
    seconds: float = 0.0
    accept_seconds: float = 0.0  # files: typing and matching the landed rows (the rest landed them)

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["periods"] = [p.isoformat() for p in self.periods]
        return data


_LANDING_SCHEMA_CURRENT = """
select exists (
    select 1 from pg_constraint c
    where c.conrelid = to_regclass('raw.loads') and c.conname = 'loads_status_check'
      and pg_get_constraintdef(c.oid) like '%landed%'
) and to_regclass('raw.loads_source_idx') is not null
  and to_regclass('raw.rejects_load_idx') is not null
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


def _split_table(qualified: str) -> tuple[str, str]:
    schema, _, table = qualified.partition(".")
    if not table:
        return "raw", schema
    return schema, table


def ensure_raw_table(conn, raw_table: str, fields: dict[str, str]) -> list[str]:
    """Create the raw table, or add columns for fields the contract gained; return field order."""
    schema, table = _split_table(raw_table)
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


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value else "NaN"
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return _json(value)
    return str(value).translate(_ESCAPES)


def _text(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str).translate(_ESCAPES)


_FAST = {
    int: str,
    str: _text,
    type(None): lambda _v: "\\N",
    dt.date: dt.date.isoformat,
    decimal.Decimal: str,
    dict: _json,
}


def _fmt(value: Any) -> str:
    """`_copy_value`, dispatched on the exact type first (the per-row hot path)."""
    fast = _FAST.get(value.__class__)
    return fast(value) if fast is not None else _copy_value(value)


def _LineStream(lines: Iterator[str]):  # noqa: N802 - reads as the stream it returns
    """A file-like object that psycopg2's copy_expert reads, fed lazily from text lines."""
    from cakupan.landing.text import ByteChunks

    return ByteChunks(line.encode("utf-8") for line in lines)


def land(
    conn,
    *,
    source: str,
    raw_table: str,
    fields: dict[str, str],
    rows: Iterable[Any],
    source_file: str | None = None,
    source_sha256: str | None = None,
    source_url: str | None = None,
    counts: Callable[[], dict[str, int]] | None = None,
    run_id: str | None = None,
    replace_by_file: bool = True,
    progress: Callable[[str], None] | None = None,
) -> LoadResult:
    """Land one source's rows in one transaction.

    `rows` yields objects with `source_row`, `sheet`, `source_values` and either
    (`period`, `region_code`, `values`) for accepted rows or (`column`, `reason`) for rejected
    ones (`cakupan.sources.extract.ExtractedRow` / `RejectedRow`). `counts()` is called after the
    rows are exhausted and returns rows_read/rows_skipped as the extractor counted them.
    """
    started = dt.datetime.now(dt.UTC)
    schema, table = _split_table(raw_table)
    try:
        ensure_landing_schema(conn)
        order = ensure_raw_table(conn, raw_table, fields)
        with conn.cursor() as cur:
            # one loader per raw table at a time: replacement below must see a stable table
            cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (raw_table,))
            cur.execute(
                "insert into raw.loads (source, raw_table, source_file, source_sha256, source_url,"
                " status, run_id, started_at) values (%s, %s, %s, %s, %s, 'running', %s, %s)"
                " returning load_id",
                (source, raw_table, source_file, source_sha256, source_url, run_id, started),
            )
            load_id = cur.fetchone()[0]
            rejects: list[Any] = []
            landed = 0
            prefix = "\t".join(
                [
                    str(load_id),
                    started.isoformat(),
                    _copy_value(source_file),
                    _copy_value(source_sha256),
                ]
            )

            fmt = _fmt
            periods_seen: set = set()
            json_keys: dict[tuple, list[str]] = {}
            encode = json.encoder.encode_basestring  # C: one JSON string literal

            def source_json(source_values: dict) -> str:
                # the keys repeat on every row of a sheet: encode them once
                keys = tuple(source_values)
                parts = json_keys.get(keys)
                if parts is None:
                    parts = json_keys[keys] = (
                        ["{" + encode(keys[0]) + ": "] + [", " + encode(k) + ": " for k in keys[1:]]
                        if keys
                        else []
                    )
                if not parts:
                    return "{}"
                try:
                    text = "".join(map(str.__add__, parts, map(encode, source_values.values())))
                except TypeError:  # a value that is not text: the general encoder
                    return _json(source_values)
                text += "}"
                return text.translate(_ESCAPES) if "\\" in text else text

            def lines() -> Iterator[str]:
                nonlocal landed
                add_period = periods_seen.add
                for row in rows:
                    if hasattr(row, "reason"):
                        rejects.append(row)
                        continue
                    landed += 1
                    if progress is not None and landed % 200_000 == 0:
                        progress(f"{source}: {landed:,} rows landed")
                    period = row.period
                    add_period(period)
                    cells = [
                        prefix,
                        fmt(row.sheet),
                        fmt(row.source_row),
                        fmt(period),
                        fmt(row.region_code),
                    ]
                    cells += map(fmt, map(row.values.get, order))
                    cells.append(source_json(row.source_values))
                    yield "\t".join(cells) + "\n"

            column_list = sql.SQL(", ").join(
                [sql.Identifier(name) for name, _ in PROVENANCE_COLUMNS]
                + [sql.Identifier(name) for name in order]
                + [sql.Identifier("_source_values")]
            )
            copy = sql.SQL("copy {}.{} ({}) from stdin").format(
                sql.Identifier(schema), sql.Identifier(table), column_list
            )
            source_error: list[BaseException] = []

            def guarded() -> Iterator[str]:
                try:
                    yield from lines()
                except BaseException as exc:  # re-raised below as itself, not as psycopg2's
                    source_error.append(exc)
                    raise

            try:
                cur.copy_expert(copy.as_string(conn), _LineStream(guarded()), size=1 << 20)
            except psycopg2.Error:
                if source_error:
                    raise source_error[0] from None
                raise

            if rejects:
                reject_lines = (
                    "\t".join(
                        [
                            str(load_id),
                            started.isoformat(),
                            _copy_value(source),
                            _copy_value(source_file or source_url),
                            _copy_value(r.sheet),
                            _copy_value(r.source_row),
                            _copy_value(r.column),
                            _copy_value(r.reason),
                            _copy_value(r.source_values),
                        ]
                    )
                    + "\n"
                    for r in rejects
                )
                cur.copy_expert(
                    "copy raw.rejects (_load_id, _loaded_at, source, source_file, sheet,"
                    " source_row, column_name, reason, source_values) from stdin",
                    _LineStream(reject_lines),
                    size=1 << 20,
                )

            periods = sorted(p for p in periods_seen if p is not None)

            replaced = replace_previous(
                cur,
                source=source,
                raw_table=raw_table,
                load_id=load_id,
                periods=periods,
                source_file=source_file,
                replace_by_file=replace_by_file,
            )

            counted = counts() if counts is not None else {}
            rows_read = counted.get("rows_read", landed + len(rejects))
            rows_skipped = counted.get("rows_skipped", 0)
            if rows_read != landed + len(rejects):
                raise RuntimeError(
                    f"{source}: {source_file or source_url}: rows read ({rows_read}) is not rows"
                    f" landed ({landed}) + rows rejected ({len(rejects)}); nothing was loaded"
                )
            finished = dt.datetime.now(dt.UTC)
            cur.execute(
                "update raw.loads set status = 'succeeded', periods = %s, rows_read = %s,"
                " rows_landed = %s, rows_rejected = %s, rows_skipped = %s, finished_at = %s"
                " where load_id = %s",
                (periods, rows_read, landed, len(rejects), rows_skipped, finished, load_id),
            )
        conn.commit()
    except BaseException as exc:
        conn.rollback()
        _record_failure(
            conn, source, raw_table, source_file, source_sha256, source_url, run_id, started, exc
        )
        raise
    return LoadResult(
        load_id=load_id,
        source=source,
        raw_table=raw_table,
        source_file=source_file,
        rows_read=rows_read,
        rows_landed=landed,
        rows_rejected=len(rejects),
        rows_skipped=rows_skipped,
        periods=periods,
        replaced_loads=replaced,
        seconds=(finished - started).total_seconds(),
    )


def replace_previous(
    cur,
    *,
    source: str,
    raw_table: str,
    load_id: int,
    periods: list,
    source_file: str | None,
    replace_by_file: bool,
) -> list[int]:
    """Delete what earlier loads of this file or of these periods landed; mark them superseded."""
    schema, table = _split_table(raw_table)
    # replace what earlier loads of this file or of these periods landed
    conditions = [sql.SQL("_period = any(%(periods)s)")]
    if replace_by_file and source_file is not None:
        conditions.append(sql.SQL("_source_file = %(file)s"))
    cur.execute(
        sql.SQL(
            "with gone as (delete from {}.{} where _load_id <> %(load)s and ({})"
            " returning _load_id) select distinct _load_id from gone"
        ).format(sql.Identifier(schema), sql.Identifier(table), sql.SQL(" or ").join(conditions)),
        {"periods": periods, "file": source_file, "load": load_id},
    )
    replaced = sorted(r[0] for r in cur.fetchall())
    # loads that landed only rejects of the same file are superseded too
    if source_file is not None:
        cur.execute(
            "select load_id from raw.loads where source = %s and source_file = %s"
            " and status = 'succeeded' and superseded_by is null and load_id <> %s",
            (source, source_file, load_id),
        )
        replaced = sorted(set(replaced) | {r[0] for r in cur.fetchall()})
    if replaced:
        cur.execute("delete from raw.rejects where _load_id = any(%s)", (replaced,))
        cur.execute(
            "update raw.loads set superseded_by = %s where load_id = any(%s)",
            (load_id, replaced),
        )
    return replaced


def _record_failure(conn, source, raw_table, source_file, sha256, url, run_id, started, exc):
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
        conn.rollback()
