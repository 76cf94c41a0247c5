"""Canonical observations: what a load's accepted rows say, in the warehouse's own terms.

A contract's `feeds` section and its fields' `measure`/`group` (`cakupan.sources.contracts`,
`reference/measures.yml`) say which canonical measure each field feeds. After the accepted rows
are in the contract's raw table, this module writes them once more in one long form, one row per
(measure, group, detail, region, period) and value, with the source, the load, the file and the
row they came from: `raw.observations`, partitioned by dataset (`raw.observations_<dataset>`),
which is what the facts read (dbt `stg_observations__<dataset>`). A new layout that feeds known
measures therefore reaches the facts with nothing but its contract.

Which of a source's rows are current is not decided here but by the load's scope
(`cakupan.landing.scopes`): a later load of the same source supersedes earlier observations of
the periods (and, for a partial source, the regions) it covers; nothing is deleted.
"""

from __future__ import annotations

from psycopg import sql

from cakupan.landing.raw import split_table
from cakupan.sources.contracts import Contract, measure_catalogue

OBSERVATIONS_DDL = """
create schema if not exists raw;
create table if not exists raw.observations (
    dataset       text not null,
    load_id       bigint not null,
    source        text not null,
    publisher     text not null,
    measure       text not null,
    group_code    text not null,
    detail        text not null,
    region_level  text not null,
    region_code   text not null,
    region_system text,
    region_code_source text,
    period        date not null,
    grain         text not null,
    value         numeric not null,
    source_file   text,
    sheet         text,
    source_row    integer,
    loaded_at     timestamptz not null default now()
) partition by list (dataset);
alter table raw.observations add column if not exists region_system text;
alter table raw.observations add column if not exists region_code_source text;
create index if not exists observations_period_idx on raw.observations (period);
create index if not exists observations_load_idx on raw.observations (load_id);
"""


def partition_name(dataset: str) -> str:
    return f"observations_{dataset}"


def ensure_observations(conn, dataset: str) -> None:
    """Create `raw.observations` and every dataset's partition when missing, in a short
    transaction of its own (committed), as the landing's other DDL is."""
    with conn.cursor() as cur:
        names = sorted({dataset, *measure_catalogue()})
        cur.execute(
            "select count(*) = %s and exists (select from pg_attribute"
            " where attrelid = to_regclass('raw.observations') and attname = 'region_code_source')"
            " from pg_class where relnamespace = 'raw'::regnamespace and relname = any(%s::text[])",
            (len(names), [partition_name(n) for n in names]),
        )
        if cur.fetchone()[0]:
            return
        cur.execute("select pg_advisory_xact_lock(hashtext('cakupan.observations_ddl'))")
        cur.execute(OBSERVATIONS_DDL)
        # every dataset's partition at once: dbt's source freshness reads each of them
        for name in names:
            cur.execute(
                sql.SQL(
                    "create table if not exists raw.{} partition of raw.observations"
                    " for values in ({})"
                ).format(sql.Identifier(partition_name(name)), sql.Literal(name))
            )
    conn.commit()


def _period(contract: Contract) -> sql.Composable:
    feeds = contract.feeds
    assert feeds is not None
    if feeds.year_field is not None:
        return sql.SQL("make_date(r.{}::integer, 1, 1)").format(sql.Identifier(feeds.year_field))
    return sql.SQL("r._period")


def _detail(contract: Contract) -> sql.Composable:
    feeds = contract.feeds
    assert feeds is not None
    if feeds.detail is None:
        return sql.Literal("")
    return sql.SQL("coalesce(trim(r.{}::text), '')").format(sql.Identifier(feeds.detail))


def _code_source(contract: Contract) -> sql.Composable:
    """The region as the source wrote it (an old code is reported under the current one)."""
    if contract.region is None:
        return sql.SQL("null")
    return sql.SQL("trim(r.{}::text)").format(sql.Identifier(contract.region.field))


def _level_filter(level: str) -> sql.Composable:
    # a kab/kota code has a dot (`64.02`), a province's has none (`64`)
    op = "like" if level == "district" else "not like"
    return sql.SQL("r._region_code " + op + " '%.%'")


def write_observations(cur, contract: Contract, load_id: int) -> int:
    """The load's accepted rows, one observation per measure field with a value; returns how
    many were written."""
    feeds = contract.feeds
    if feeds is None:
        return 0
    schema, table = split_table(contract.raw_table)
    values = sql.SQL(", ").join(
        sql.SQL("({}, {}, r.{}::numeric)").format(
            sql.Literal(spec.measure), sql.Literal(spec.group), sql.Identifier(name)
        )
        for name, spec in contract.measure_fields().items()
    )
    # values as literals (header texts and names never reach this statement as parameters)
    cur.execute(
        sql.SQL(
            "insert into raw.observations (dataset, load_id, source, publisher, measure,"
            " group_code, detail, region_level, region_code, region_system, region_code_source,"
            " period, grain, value, source_file, sheet, source_row)"
            " select {dataset}, r._load_id, {source}, {publisher}, m.measure, m.group_code,"
            " {detail}, {level}, r._region_code, {system}, {code_source}, {period}, {grain},"
            " m.value, r._source_file, r._sheet, r._source_row"
            " from {s}.{t} r cross join lateral (values {values}) as m (measure, group_code, value)"
            " where r._load_id = {load} and m.value is not null and r._region_code is not null"
            " and {period} is not null and {level_filter}"
        ).format(
            dataset=sql.Literal(feeds.dataset),
            source=sql.Literal(contract.name),
            publisher=sql.Literal(contract.source_publisher),
            detail=_detail(contract),
            level=sql.Literal(feeds.level),
            system=sql.Literal(contract.region.system if contract.region else None),
            code_source=_code_source(contract),
            period=_period(contract),
            grain=sql.Literal(feeds.grain),
            s=sql.Identifier(schema),
            t=sql.Identifier(table),
            values=values,
            load=sql.Literal(load_id),
            level_filter=_level_filter(feeds.level),
        )
    )
    return cur.rowcount


def delete_observations(cur, load_ids: list[int]) -> int:
    """Remove loads' observations (a removed load; the purge of superseded ones)."""
    if not load_ids or not _exists(cur):
        return 0
    cur.execute("delete from raw.observations where load_id = any(%s::bigint[])", (load_ids,))
    return cur.rowcount


def _exists(cur) -> bool:
    cur.execute("select to_regclass('raw.observations') is not null")
    return cur.fetchone()[0]


__all__ = ["delete_observations", "ensure_observations", "partition_name", "write_observations"]
