"""The tables of person-level loads: `restricted.person_records` (partitioned by kab/kota),
`raw.person_rejects`, and the kecamatan/desa reference `reference.wilayah`.

`restricted` is the only schema where clear personal data (NIK, No. KK, names, birth dates,
addresses) lives: PUBLIC's privileges on it are revoked and nothing grants it to `bi_reader` or an
office role. `raw.person_rejects` holds a rejected row's number, dataset and reason (the column
and the rule, never the value) and the keyed NIK when the NIK was valid, nothing in clear.
"""

from __future__ import annotations

import hashlib

from psycopg import sql

from cakupan.landing.scopes import ensure_scopes_schema
from cakupan.parsing.wilayah import WILAYAH_CSV

PERSONS_DDL = """
create schema if not exists restricted;
revoke all on schema restricted from public;
create table if not exists restricted.person_records (
    record_id        bigint not null,
    load_id          bigint not null,
    row_number       integer not null,
    district_code    text not null,
    kecamatan_code   text,
    desa_code        text,
    nik              text,
    nik_key          text,
    nik_status       text not null,
    kk               text,
    kk_key           text,
    card_no          text,
    card_key         text,
    full_name        text,
    sex              text,
    birth_place      text,
    birth_date       date,
    address          text,
    rt               text,
    rw               text,
    alive            boolean,
    died_on          date,
    segment          text,
    active           boolean,
    inactive_reason  text,
    registered_on    date,
    fktp             text,
    desil            smallint,
    facility         text
) partition by list (district_code);
-- no primary key: a record id is unique by composition (`persons.record_id`), and keeping an
-- index while a million rows stream in was about a sixth of the server's work of a load; the
-- staging model indexes the current records' ids (`ensure_person_schema` drops the key of a
-- warehouse made before)
create table if not exists restricted.person_records_default
    partition of restricted.person_records default;
-- a record's dataset, source and period are its load's (`raw.load_scopes`, one row a person
-- load), not repeated on a million rows: the server's COPY of a load is a sixth lighter
create or replace view restricted.current_person_records as
select records.*, scopes.dataset, scopes.source, scopes.period
from restricted.person_records as records
join raw.loads as loads on loads.load_id = records.load_id
join raw.load_scopes as scopes on scopes.load_id = records.load_id
where loads.status = 'succeeded' and loads.superseded_by is null;
create table if not exists raw.person_rejects (
    load_id     bigint not null,
    row_number  integer not null,
    dataset     text not null,
    reason      text not null,
    nik_key     text
);
create index if not exists person_rejects_load_idx on raw.person_rejects (load_id);
create schema if not exists reference;
create table if not exists reference.wilayah (
    code           text primary key,
    name           text not null,
    level          text not null,
    district_code  text not null
);
"""


def ensure_person_schema(conn) -> None:
    """Create the person tables when missing (after `raw.loads`), in a short committed
    transaction; refresh `reference.wilayah` when the packaged file changed."""
    ensure_scopes_schema(conn)  # `raw.load_scopes`, which the view reads
    with conn.cursor() as cur:
        cur.execute(
            "select to_regclass('raw.person_rejects') is not null"
            " and to_regclass('restricted.current_person_records') is not null"
            " and not exists (select from pg_attribute where attname = 'dataset'"
            " and attrelid = to_regclass('restricted.person_records') and not attisdropped)"
        )
        current = cur.fetchone()[0]
        if not current:
            cur.execute("select pg_advisory_xact_lock(hashtext('cakupan.persons_ddl'))")
            cur.execute(
                "select exists (select from pg_attribute where attname = 'dataset'"
                " and attrelid = to_regclass('restricted.person_records') and not attisdropped)"
            )
            if cur.fetchone()[0]:  # a warehouse of before: each record carried its load's
                cur.execute(
                    "drop view if exists restricted.current_person_records;"
                    " alter table restricted.person_records drop column dataset,"
                    " drop column source, drop column period"
                )
            cur.execute(PERSONS_DDL)
        cur.execute(
            "select exists (select from pg_constraint where conname = 'person_records_pkey'"
            " and conrelid = 'restricted.person_records'::regclass)"
        )
        if cur.fetchone()[0]:  # a warehouse of before the landing streamed its rows
            cur.execute("alter table restricted.person_records drop constraint person_records_pkey")
        refresh_wilayah(cur)
    conn.commit()


def refresh_wilayah(cur) -> bool:
    """`reference.wilayah` from `reference/wilayah_2025.csv`, replaced only when the file's
    hash (kept as the table's comment) changed; True when it was."""
    data = WILAYAH_CSV.read_bytes()
    mark = "sha256:" + hashlib.sha256(data).hexdigest()
    cur.execute("select obj_description('reference.wilayah'::regclass, 'pg_class')")
    if cur.fetchone()[0] == mark:
        return False
    cur.execute("select pg_advisory_xact_lock(hashtext('cakupan.wilayah'))")
    cur.execute("delete from reference.wilayah")
    with cur.copy(
        "copy reference.wilayah (code, name, level, district_code)"
        " from stdin with (format csv, header true)"
    ) as copy:
        copy.write(data)
    cur.execute(sql.SQL("comment on table reference.wilayah is {}").format(sql.Literal(mark)))
    return True


def partition_name(district_code: str) -> str:
    return "person_records_" + district_code.replace(".", "_")


def ensure_partitions(cur, district_codes: list[str]) -> list[str]:
    """A partition of `restricted.person_records` for each kab/kota code not yet given one
    (the unknown district `''` stays in the default partition); returns those created."""
    cur.execute(
        "select pg_get_expr(c.relpartbound, c.oid) from pg_inherits i"
        " join pg_class c on c.oid = i.inhrelid"
        " where i.inhparent = 'restricted.person_records'::regclass"
    )
    bounds = " ".join(row[0] for row in cur.fetchall())
    created = []
    for code in sorted(set(district_codes)):
        if not code or f"'{code}'" in bounds:
            continue
        cur.execute(
            sql.SQL(
                "create table if not exists restricted.{} partition of restricted.person_records"
                " for values in ({})"
            ).format(sql.Identifier(partition_name(code)), sql.Literal(code))
        )
        created.append(code)
    return created


__all__ = ["ensure_partitions", "ensure_person_schema", "partition_name", "refresh_wilayah"]
