"""What a load covers, what it supersedes, and the guard against shrinking deliveries.

A load's *scope* (`raw.load_scopes`) is what it says something about: for each period it gives,
every region (`*`) when its contract's coverage is `national`, or the regions it gives when the
coverage is `partial` (a branch office's table). A later succeeded load of the same source
(contract) supersedes an earlier one where their scopes meet (`raw.superseded`), and a rerun of
the same file supersedes the earlier load whole; the superseded rows stay in `raw` and out of the
facts' way (dbt's `current_rows` macro), so removing the newer load brings the older one back.
Loads of another source are never touched: a branch table cannot erase the national recap.

A load that would replace a source's period with far fewer rows or regions than the current
load has is refused unless the operator allows it (`allow_shrink`), naming both counts.
"""

from __future__ import annotations

import os

from psycopg import sql

from cakupan.landing.raw import split_table
from cakupan.sources.contracts import Contract
from cakupan.sources.errors import SourceFileError

SCOPES_DDL = """
create schema if not exists raw;
create table if not exists raw.load_scopes (
    load_id      bigint not null,
    source       text not null,
    dataset      text,
    period       date not null,
    region_code  text not null,
    rows         bigint not null,
    regions      integer not null,
    primary key (load_id, period, region_code)
);
create index if not exists load_scopes_source_idx on raw.load_scopes (source, period);
create table if not exists raw.superseded (
    load_id        bigint not null,
    period         date,
    region_code    text not null,
    superseded_by  bigint not null
);
create index if not exists superseded_load_idx on raw.superseded (load_id);
"""

# a delivery with less than this share of the current load's rows or regions is refused
SHRINK_RATIO_DEFAULT = 0.5


def ensure_scopes_schema(conn) -> None:
    """Create the scope tables when missing, in a short transaction of its own (committed)."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('raw.superseded') is not null")
        if cur.fetchone()[0]:
            return
        cur.execute("select pg_advisory_xact_lock(hashtext('cakupan.scopes_ddl'))")
        cur.execute(SCOPES_DDL)
    conn.commit()


def _scope_rows(contract: Contract, load_id: int) -> sql.Composable:
    """(period, region, row) of the load's accepted rows: from its observations when the
    contract feeds measures (a year column gives their period), else from the raw table."""
    if contract.feeds is not None:
        return sql.SQL(
            "select period, region_code, source_row as r from raw.observations"
            " where load_id = {load} and dataset = {dataset}"
        ).format(load=sql.Literal(load_id), dataset=sql.Literal(contract.feeds.dataset))
    schema, table = split_table(contract.raw_table)
    return sql.SQL(
        "select _period as period, coalesce(_region_code, '') as region_code, _source_row as r"
        " from {}.{} where _load_id = {} and _period is not null"
    ).format(sql.Identifier(schema), sql.Identifier(table), sql.Literal(load_id))


def record_scope(cur, contract: Contract, load_id: int) -> None:
    """The load's scope: per period (and region, for a partial source) its rows and regions."""
    partial = contract.feeds is not None and contract.feeds.coverage == "partial"
    region = sql.SQL("region_code") if partial else sql.SQL("'*'::text")
    cur.execute(
        sql.SQL(
            "insert into raw.load_scopes (load_id, source, dataset, period, region_code, rows,"
            " regions) select {load}, {source}, {dataset}, period, {region}, count(distinct r),"
            " count(distinct region_code) from ({rows}) s group by 1, 2, 3, 4, 5"
        ).format(
            load=sql.Literal(load_id),
            source=sql.Literal(contract.name),
            dataset=sql.Literal(contract.feeds.dataset if contract.feeds else None),
            region=region,
            rows=_scope_rows(contract, load_id),
        )
    )


_SHRUNK = """
select new.period, new.region_code, new.rows, new.regions, old.load_id, old.rows, old.regions
from raw.load_scopes new
cross join lateral (
    select s.load_id, s.rows, s.regions
    from raw.load_scopes s
    join raw.loads l on l.load_id = s.load_id and l.status = 'succeeded'
    where s.source = new.source and s.period = new.period and s.region_code = new.region_code
      and s.load_id <> new.load_id
      and not exists (
          select 1 from raw.superseded x
          where x.load_id = s.load_id and x.region_code = s.region_code
            and (x.period = s.period or x.period is null)
      )
    order by s.load_id desc
    limit 1
) old
where new.load_id = %s and (new.rows < old.rows * %s or new.regions < old.regions * %s)
order by new.period, new.region_code
"""


def shrink_ratio() -> float:
    return float(os.environ.get("CAKUPAN_SHRINK_RATIO", SHRINK_RATIO_DEFAULT))


def refuse_shrink(cur, source_file: str, contract: Contract, load_id: int) -> None:
    """Refuse a load that would replace a period of its source with far fewer rows or regions
    than the current load of that period has (`CAKUPAN_SHRINK_RATIO`, default 0.5)."""
    ratio = shrink_ratio()
    cur.execute(_SHRUNK, (load_id, ratio, ratio))
    shrunk = cur.fetchall()
    if not shrunk:
        return
    period, region, rows, regions, old_load, old_rows, old_regions = shrunk[0]
    where = f"{period:%Y-%m}" + ("" if region == "*" else f" region {region}")
    more = f" (and {len(shrunk) - 1} more period(s))" if len(shrunk) > 1 else ""
    raise SourceFileError(
        source_file,
        f"refusing to replace {contract.name} {where}: this load has {rows:,} rows in"
        f" {regions:,} regions where the current load {old_load} has {old_rows:,} rows in"
        f" {old_regions:,} regions{more}; load it with --allow-shrink if the smaller delivery"
        " is right",
    )


_SUPERSEDED_BY_SCOPE = """
insert into raw.superseded (load_id, period, region_code, superseded_by)
select old.load_id, old.period, old.region_code, min(new.load_id)
from raw.load_scopes old
join raw.load_scopes new
    on new.source = old.source and new.period = old.period and new.load_id > old.load_id
    and (new.region_code = '*' or new.region_code = old.region_code)
join raw.loads l on l.load_id = new.load_id and l.status = 'succeeded'
where old.source = %(source)s
group by old.load_id, old.period, old.region_code
"""

_SUPERSEDED_BY_FILE = """
insert into raw.superseded (load_id, period, region_code, superseded_by)
select old.load_id, null, '*', min(new.load_id)
from raw.loads old
join raw.loads new
    on new.source = old.source and new.source_file = old.source_file
    and new.load_id > old.load_id and new.status = 'succeeded'
where old.source = %(source)s and old.status = 'succeeded'
group by old.load_id
"""

# a load is superseded as a whole when every part of its scope is (or its file was rerun); only
# the succeeded loads whose mark changes are updated: a load landing in parallel keeps its row
# unlocked
_WHOLLY_SUPERSEDED = """
with whole as (
    select s.load_id, max(x.superseded_by) as superseded_by
    from raw.load_scopes s
    left join raw.superseded x
        on x.load_id = s.load_id and x.period = s.period and x.region_code = s.region_code
    where s.source = %(source)s
    group by s.load_id
    having bool_and(x.superseded_by is not null)
    union all
    select load_id, superseded_by from raw.superseded
    where period is null and load_id in (select load_id from raw.loads where source = %(source)s)
),
marks as (
    select l.load_id, max(whole.superseded_by) as superseded_by
    from raw.loads l
    left join whole on l.load_id = whole.load_id
    where l.source = %(source)s and l.status = 'succeeded'
    group by l.load_id
)
update raw.loads l set superseded_by = marks.superseded_by
from marks
where l.load_id = marks.load_id and l.superseded_by is distinct from marks.superseded_by
"""


def supersede(cur, source: str) -> list[int]:
    """Recompute what the source's succeeded loads supersede of each other; return the loads
    superseded as a whole (their landed copies can go). Recomputed from the scopes, so that a
    removed load's predecessors come back."""
    cur.execute(
        "delete from raw.superseded where load_id in"
        " (select load_id from raw.loads where source = %(source)s)",
        {"source": source},
    )
    cur.execute(_SUPERSEDED_BY_SCOPE, {"source": source})
    cur.execute(_SUPERSEDED_BY_FILE, {"source": source})
    cur.execute(_WHOLLY_SUPERSEDED, {"source": source})
    cur.execute(
        "select load_id from raw.loads where source = %s and superseded_by is not null", (source,)
    )
    return sorted(r[0] for r in cur.fetchall())


__all__ = ["ensure_scopes_schema", "record_scope", "refuse_shrink", "supersede"]
