"""The round trip: returned worklists (contract `worklist_verification`) into the warehouse.

A returned workbook holds names, NIKs and addresses beside the results, so it never goes the
generic way (a raw table keeps every cell in `_source_values`, `raw.rejects` too): only the
worklist id and the four columns filled in the field are read. Each filled row becomes one row of
`persons.worklist_verifications` (`worklist_id, status, verified_by, verified_on, load_id,
loaded_at`, plus the item's `district_code`/`kecamatan_code` that row-level security needs and
the sheet and row it came from); its note, free text that may name people, goes to
`restricted.worklist_verification_notes`. A row with a result the dropdown does not offer, a
worklist id the warehouse does not know, no verifier or no valid date is a reject in
`raw.rejects` with its reason and no cell values. Reloading the same workbook (same file, or
same content) replaces its earlier load: that load's rows are deleted and it is marked superseded.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from psycopg import sql

from cakupan.landing.raw import (
    LoadResult,
    ensure_landed_schema,
    ensure_landing_schema,
    record_failure,
)
from cakupan.parsing.worklist import RESULT_LABELS, parse_result
from cakupan.sources.contracts import Contract
from cakupan.sources.errors import SourceFileError
from cakupan.sources.extract import Extraction

log = logging.getLogger(__name__)

FIELDS = ("worklist_id", "result", "verified_by", "verified_on", "note")

VERIFICATIONS_DDL = """
create schema if not exists persons;
create schema if not exists restricted;
revoke all on schema restricted from public;
create table if not exists persons.worklist_verifications (
    worklist_id     text not null,
    status          text not null,
    verified_by     text,
    verified_on     date,
    load_id         bigint not null,
    loaded_at       timestamptz not null,
    district_code   text,  -- the item's (its latest month), for row-level security
    kecamatan_code  text,
    sheet           text,
    source_row      integer,
    primary key (load_id, worklist_id),
    constraint worklist_verifications_status_check check (status in
        ('verified', 'moved', 'dead', 'enrolled_now', 'not_found'))
);
-- no grant to any office role or bi_reader (they see the results in persons.worklist_items,
-- under its row-level security); RLS on without a policy: only the owner reads it
alter table persons.worklist_verifications enable row level security;
create index if not exists worklist_verifications_item_idx
    on persons.worklist_verifications (worklist_id, verified_on);
create table if not exists restricted.worklist_verification_notes (
    load_id      bigint not null,
    worklist_id  text not null,
    note         text not null,
    primary key (load_id, worklist_id)
);
"""


def ensure_verifications_schema(conn) -> None:
    """Create `persons.worklist_verifications` (which the transform reads as a source) and the
    restricted notes table when absent; idempotent, committed."""
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext('persons.worklist_verifications'))")
        cur.execute(VERIFICATIONS_DDL)
    conn.commit()


@dataclass
class _Row:
    sheet: str | None
    source_row: int
    worklist_id: str | None
    status: str | None
    verified_by: str | None
    verified_on: dt.date | None
    note: str | None
    column: str | None = None
    reason: str | None = None


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _date(value) -> dt.date | None | str:
    """A cell as a date: a spreadsheet date (or its day number, 2000-2099), `DD-MM-YYYY`,
    `DD/MM/YYYY` or `YYYY-MM-DD`;
    "bad" when it holds something else."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and 36526 <= value < 73051:  # a date that lost its format
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))  # Excel's day numbers
    text = _text(value)
    if text is None:
        return None
    for pattern in ("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return "bad"


_LABELS = ", ".join(RESULT_LABELS.values())


def _decide(row: _Row, when, today: dt.date) -> _Row:
    """The row's first fault as (column, reason), naming the rule and never the value."""
    checks = (
        (row.worklist_id is None, "worklist_id", "empty: the row has no worklist id"),
        (row.status is None, "result", f"not a verification result (one of: {_LABELS})"),
        (row.verified_by is None, "verified_by", "empty: who verified is required with a result"),
        (when is None, "verified_on", "empty: the verification date is required with a result"),
        (when == "bad", "verified_on", "not a date (dd-mm-yyyy)"),
        (isinstance(when, dt.date) and when > today, "verified_on", "after the load date"),
    )
    for failed, column, reason in checks:
        if failed:
            row.column, row.reason = column, f"{column}: {reason}"
            break
    return row


def _cells(cells: list, columns: dict[str, int]) -> dict[str, object]:
    """A row's cells by field (None where the sheet has no such column)."""
    return {
        name: cells[columns[name]] if name in columns and columns[name] < len(cells) else None
        for name in FIELDS
    }


def read_rows(extraction: Extraction) -> tuple[list[_Row], int]:
    """The filled rows of every sheet, decided (faults set); and the rows skipped (blank, or no
    result filled in yet: not verified)."""
    rows, skipped, today = [], 0, dt.date.today()
    for prepared in extraction.prepared:
        columns = {f: c for f, (c, _header) in prepared.result.columns.items()}
        for number, raw in prepared.data:
            cell = _cells(raw, columns)
            result_text = _text(cell["result"])
            if result_text is None:
                skipped += 1  # not verified yet (or a blank row)
                continue
            when = _date(cell["verified_on"])
            row = _Row(prepared.result.sheet, number, _text(cell["worklist_id"]),
                       parse_result(result_text), _text(cell["verified_by"]),
                       when if isinstance(when, dt.date) else None,
                       _text(cell["note"]))  # fmt: skip
            rows.append(_decide(row, when, today))
    return rows, skipped


_UNKNOWN_AND_REPEATED = """
with items as (
    select distinct worklist_id from persons.worklist_items
),

ranked as (
    select _wv.ctid as row_ctid, items.worklist_id is not null as is_known,
        row_number() over (partition by _wv.worklist_id order by _wv.ord) as nth
    from _wv
    left join items on items.worklist_id = _wv.worklist_id
    where _wv.reason is null
),

final as (
    select row_ctid,
        case
            when not is_known then 'worklist_id: not a worklist item of the warehouse'
            when nth > 1 then 'worklist_id: repeated in this workbook (the first row is kept)'
        end as reason
    from ranked
    where not is_known or nth > 1
)

update _wv set column_name = 'worklist_id', reason = final.reason
from final where _wv.ctid = final.row_ctid
"""

_ACCEPTED = """
with items as (
    select distinct on (worklist_id) worklist_id, district_code, kecamatan_code
    from persons.worklist_items
    order by worklist_id, period desc
),

accepted as (
    select worklist_id, status, verified_by, verified_on, sheet, source_row
    from _wv where reason is null
),

final as (
    select accepted.worklist_id, accepted.status, accepted.verified_by, accepted.verified_on,
        %(load)s::bigint as load_id, %(at)s::timestamptz as loaded_at, items.district_code,
        items.kecamatan_code, accepted.sheet, accepted.source_row
    from accepted
    inner join items on items.worklist_id = accepted.worklist_id
)

insert into persons.worklist_verifications (worklist_id, status, verified_by, verified_on,
    load_id, loaded_at, district_code, kecamatan_code, sheet, source_row)
select * from final
"""


def _stage(cur, rows: list[_Row]) -> None:
    cur.execute(
        "create temp table _wv (ord integer, sheet text, source_row integer, worklist_id text,"
        " status text, verified_by text, verified_on date, note text, column_name text,"
        " reason text) on commit drop"
    )
    with cur.copy("copy _wv from stdin") as copy:
        for ord_, r in enumerate(rows):
            copy.write_row((ord_, r.sheet, r.source_row, r.worklist_id, r.status,
                            r.verified_by, r.verified_on, r.note, r.column, r.reason))  # fmt: skip
    cur.execute(_UNKNOWN_AND_REPEATED)


def _replace_earlier(cur, contract: Contract, load_id: int, source_file: str, sha: str) -> list:
    """Loads of the same workbook (same file, or same content) before this one: their rows go
    and they are marked superseded by this load."""
    cur.execute(
        "update raw.loads set superseded_by = %s where source = %s and status = 'succeeded'"
        " and superseded_by is null and load_id <> %s"
        " and (source_file = %s or source_sha256 = %s) returning load_id",
        (load_id, contract.name, load_id, source_file, sha),
    )
    earlier = sorted(r[0] for r in cur.fetchall())
    if earlier:
        for schema, table in (("persons", "worklist_verifications"),
                              ("restricted", "worklist_verification_notes")):  # fmt: skip
            cur.execute(
                sql.SQL("delete from {} where load_id = any(%s::bigint[])").format(
                    sql.Identifier(schema, table)
                ),
                (earlier,),
            )
    return earlier


def _write(cur, contract: Contract, load_id: int, source_file: str, at: dt.datetime) -> tuple:
    cur.execute(_ACCEPTED, {"load": load_id, "at": at})
    accepted = cur.rowcount
    cur.execute(
        "insert into restricted.worklist_verification_notes (load_id, worklist_id, note)"
        " select %s, worklist_id, note from _wv where reason is null and note is not null",
        (load_id,),
    )
    # no cell values in a reject: the returned workbook holds names and NIKs
    cur.execute(
        "insert into raw.rejects (_load_id, _loaded_at, source, source_file, sheet, source_row,"
        " column_name, reason, source_values) select %s, %s, %s, %s, sheet, source_row,"
        " column_name, reason, null from _wv where reason is not null order by ord",
        (load_id, at, contract.name, source_file),
    )
    return accepted, cur.rowcount


def _require_worklists(cur, path) -> None:
    cur.execute("select to_regclass('persons.worklist_items') is not null")
    if not cur.fetchone()[0]:
        raise SourceFileError(
            path, "no worklists in the warehouse yet (persons.worklist_items): run cakupan"
            " transform after loading the person sources"
        )  # fmt: skip


def land_verifications(
    conn,
    contract: Contract,
    extraction: Extraction,
    *,
    source_file: str,
    run_id: str | None = None,
    progress: Callable[[str], None] | None = None,
    allow_shrink: bool = False,  # noqa: ARG001 - a load replaces only its own workbook's rows
) -> LoadResult:
    """Load a returned worklist workbook (every desa sheet) in one transaction; a fault
    records the load as failed and changes nothing else."""
    started = dt.datetime.now(dt.UTC)
    try:
        rows, skipped = read_rows(extraction)
        sha = extraction.sha256
    finally:
        extraction.close()
    ensure_landing_schema(conn)
    ensure_landed_schema(conn)  # the load log's tables as every load leaves them
    ensure_verifications_schema(conn)
    try:
        result = _load(conn, contract, rows, skipped, source_file, sha, run_id, started)
    except BaseException as exc:
        if not conn.closed:
            conn.rollback()
            record_failure(conn, contract.name, contract.raw_table, source_file, sha, None,
                           run_id, started, exc)  # fmt: skip
        raise
    if progress is not None:
        progress(f"{source_file}: {result.rows_landed:,} verifications loaded")
    return result


def _load(conn, contract, rows, skipped, source_file, sha, run_id, started) -> LoadResult:
    with conn.cursor() as cur:
        _require_worklists(cur, source_file)
        cur.execute(
            "insert into raw.loads (source, raw_table, source_file, source_sha256, status,"
            " run_id, started_at) values (%s, %s, %s, %s, 'landed', %s, %s) returning load_id",
            (contract.name, contract.raw_table, source_file, sha, run_id, started),
        )
        load_id = cur.fetchone()[0]
        _stage(cur, rows)
        accepted, rejected = _write(cur, contract, load_id, source_file, started)
        replaced = _replace_earlier(cur, contract, load_id, source_file, sha)
        finished = dt.datetime.now(dt.UTC)
        cur.execute(
            "update raw.loads set status = 'succeeded', rows_read = %s, rows_landed = %s,"
            " rows_rejected = %s, rows_skipped = %s, finished_at = %s where load_id = %s",
            (accepted + rejected, accepted, rejected, skipped, finished, load_id),
        )
    conn.commit()
    log.info("%s: %s verifications, %s rejected, %s not filled in (load %s)", source_file,
             accepted, rejected, skipped, load_id)  # fmt: skip
    return LoadResult(
        load_id=load_id, source=contract.name, raw_table=contract.raw_table,
        source_file=source_file, rows_read=accepted + rejected, rows_landed=accepted,
        rows_rejected=rejected, rows_skipped=skipped, replaced_loads=replaced,
        seconds=(finished - started).total_seconds(),
    )  # fmt: skip


def delete_verifications(cur, load_ids: list[int]) -> dict[int, int]:
    """`cakupan loads remove` of verification loads: their rows and notes go (the load it
    replaced stays replaced: load that workbook again to bring its results back)."""
    cur.execute(
        "select to_regclass('persons.worklist_verifications') is not null,"
        " to_regclass('restricted.worklist_verification_notes') is not null"
    )
    verifications, notes = cur.fetchone()
    if not verifications:
        return {}
    if notes:
        cur.execute(
            "delete from restricted.worklist_verification_notes where load_id = any(%s::bigint[])",
            (load_ids,),
        )
    cur.execute(
        "with gone as (delete from persons.worklist_verifications where load_id ="
        " any(%s::bigint[]) returning load_id) select load_id, count(*) from gone group by 1",
        (load_ids,),
    )
    return dict(cur.fetchall())


__all__ = [
    "delete_verifications",
    "ensure_verifications_schema",
    "land_verifications",
    "read_rows",
]
